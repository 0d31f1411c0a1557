"""Token exposure through logs and error messages: python -m 02-basic-token-passthrough.labs.token_exposure"""
