"""The tokens the tests send, and how the server must show each one: masked, never whole.

`mask_token` shows at most the first 4 characters and never more than an eighth of the token,
so the expectations are written out here once, by hand, not computed by the code under test.
"""

ALICE = "alice-secret-token-0042"  # 23 characters: 2 shown
ALICE_MASKED = "al****"
BOB = "bob-secret-token-0099"  # 21 characters: 2 shown
BOB_MASKED = "bo****"
