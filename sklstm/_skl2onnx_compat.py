"""Every skl2onnx import that is private or version-dependent.

Only :mod:`sklstm.onnx` imports this module (it needs skl2onnx); the rest of
the export reads as if only one skl2onnx existed.
"""

from skl2onnx._parse import _parse_sklearn

__all__ = ["_parse_sklearn", "empty_output_name_taken"]


def empty_output_name_taken(container):
    """Whether a node of ``container`` (a skl2onnx
    ``ModelComponentContainer``) already has an output of empty name, which
    skl2onnx refuses twice; it keeps the names taken in ``_added_names_``."""
    return "" in getattr(container, "_added_names_", ())
