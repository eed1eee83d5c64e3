"""``python -m sklstm.beijing``: the same as the ``sklstm-beijing`` command."""

from . import main

raise SystemExit(main())
