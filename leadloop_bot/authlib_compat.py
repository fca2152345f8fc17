"""authlib 1.9 prefers the `httpx2` fork and warns at import when it finds only `httpx`.

We pin httpx deliberately (the design card; PEERS.md), and authlib's own shim still supports it,
so that one warning is silenced here, before authlib's httpx integration is imported.
"""

from __future__ import annotations

import warnings

from authlib.deprecate import AuthlibDeprecationWarning

warnings.filterwarnings("ignore", message="The httpx module is deprecated", category=AuthlibDeprecationWarning)
