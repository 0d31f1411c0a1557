"""The bearer tokens lesson 05's test proxies are configured with. None of them is a secret.

The gate's tokens admit a caller to the proxy (the `team` proxy's, each user to some of its
backends); the backend token is the proxy's own
credential for lesson 02, which lesson 02 shows back masked (its `mask_token`: at most the
first 4 characters, never more than an eighth of the token).
"""

PROXY_WIDE = "proxy-wide-token-0001"  # the proxy's own authTokens: every backend without tokens of its own
FAULTY_ONLY = "faulty-only-token-0002"  # one backend's own authTokens, in place of the proxy's
ALICE = "alice-team-token-0003"  # the `team` proxy has tokens per backend only: Alice's and Mallory's
MALLORY = "mallory-team-token-0004"
FOR_LESSON_02 = "backend-token-for-lesson-02"  # 27 characters: lesson 02 shows 27 // 8 = 3 of them
FOR_LESSON_02_MASKED = "bac****"
