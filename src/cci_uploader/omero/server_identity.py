"""Whether the server is the training sandbox: a client config value read on connect.

Any user may read the server's ``omero.client.*`` keys
(omero-server ``ConfigImpl.getClientConfigValues``, which returns only the keys
``PreferenceContext.canRead`` allows).  The stand-in sets :data:`SANDBOX_KEY`; a
real server does not, so nothing can be verified against a stand-in that
forgets everything when it stops.
"""

from __future__ import annotations

from typing import Any

from cci_uploader.omero.translation import translate_errors

SANDBOX_KEY = "omero.client.cci_uploader.training_sandbox"


def is_training_sandbox(gateway: Any) -> bool:
    """Ask the server whether it is the training sandbox."""
    with translate_errors("asking the server what it is"):
        values = gateway.getConfigService().getClientConfigValues() or {}
    return str(values.get(SANDBOX_KEY, "")).lower() == "true"
