"""Which signing algorithms a token may use: the safe ones, and of those only what the issuer advertises.

Skip on a first read. A JWT names its own algorithm in its header, which the attacker writes: the
verifier (server/verifier.py) takes it only if it is asymmetric (never "none", never HMAC, whose
"public" key would be the signing secret) and listed in the issuer's metadata.
"""

from typing import Any

SAFE_ALGORITHMS = frozenset({"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"})


def advertised_algorithms(metadata: dict[str, Any]) -> frozenset[str]:
    """The safe algorithms the metadata lists (`*_signing_alg_values_supported`); all of them if it lists none
    (RFC 8414 has no field for access tokens)."""
    listed = {
        alg
        for name, values in metadata.items()
        if name.endswith("signing_alg_values_supported") and isinstance(values, list)
        for alg in values
        if isinstance(alg, str)
    }
    return SAFE_ALGORITHMS & listed if listed else SAFE_ALGORITHMS
