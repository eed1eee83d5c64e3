"""Every skl2onnx import that is private or version-dependent.

Only :mod:`sklstm.onnx` imports this module (it needs skl2onnx); the rest of
the export reads as if only one skl2onnx existed.
"""

from skl2onnx._parse import _parse_sklearn

__all__ = ["_parse_sklearn"]
