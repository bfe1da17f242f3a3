"""The audit trail's care of judges: a judge's history keeps its config with the credentials (LLM API
key, HTTP signing secrets) replaced by a fingerprint, so the trail shows that a key changed, and
when and by whom, without keeping any key."""

from __future__ import annotations

import hashlib
from typing import Any

from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

from judging.judges.credentials import CREDENTIAL_KEYS


def credential_fingerprint(value: str) -> str:
    """What the history keeps of a credential: enough to tell two apart, never the credential."""
    return f"******** (sha256 {hashlib.sha256(value.encode()).hexdigest()[:8]})"


def config_fingerprinted(config: Any) -> Any:
    if not isinstance(config, dict):
        return config
    return {
        key: credential_fingerprint(str(value)) if key in CREDENTIAL_KEYS and value else value
        for key, value in config.items()
    }


@receiver(pre_create_historical_record)
def judge_history_credentials_mask(sender: Any, instance: Any, history_instance: Any, **kwargs: Any) -> None:
    from judging.models import Judge

    if isinstance(instance, Judge):
        history_instance.config = config_fingerprinted(history_instance.config)
