"""The callers' tokens the tests send, and what the server may show of each.

The shown forms are written out, not computed with the server's own `mask_token`, so that a
broken mask cannot agree with itself: an eighth of the token, at most 4 characters, then `****`.
"""

ALICE = "alice-secret-token-0042"
ALICE_SHOWN = "al****"  # 23 characters: an eighth is 2

BOB = "bobbob-secret-token-0099"
BOB_SHOWN = "bob****"  # 24 characters: an eighth is 3
