"""Which keys of a judge's config hold credentials: the admin masks them in its form and the audit
trail keeps only a fingerprint of them (judging/history.py). Documented in docs/judges.md: llm
`api_key`, http `secret` and `previous_secret` (judging/judges/llm.py, judging/judges/http.py)."""

CREDENTIAL_KEYS = ("api_key", "secret", "previous_secret")
