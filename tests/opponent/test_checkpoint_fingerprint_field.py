"""The saved model's vocabulary fingerprint field: a text of at most 64 characters, accepted at the edge and
refused one character beyond, naming the field."""

from __future__ import annotations

import pytest

from strategist.errors import CheckpointError
from strategist.opponent.base import Vocabulary
from strategist.opponent.checkpoint_schema import check, model_meta_spec

WHERE = "club/model.json"
VOCAB = Vocabulary.of("badminton")
SPEC = model_meta_spec(("markov", "neural"), "model-format", 2)


def model_doc(fingerprint: str) -> dict:
    return {"format": "model-format", "version": 2, "kind": "markov", "vocabulary": VOCAB.to_json(),
            "vocabulary_fingerprint": fingerprint, "state": {}, "sha256": "a" * 64}


def test_the_fingerprint_field_takes_64_characters_and_refuses_65():
    assert len(VOCAB.fingerprint) <= 64                          # the fingerprint a model is saved with fits
    for fingerprint in (VOCAB.fingerprint, "f" * 64):
        assert check(SPEC, model_doc(fingerprint), WHERE)["vocabulary_fingerprint"] == fingerprint
    with pytest.raises(CheckpointError) as caught:
        check(SPEC, model_doc("f" * 65), WHERE)
    message = str(caught.value)
    assert message.startswith(f"{WHERE}: field 'vocabulary_fingerprint'"), message
    assert "at most 64 characters" in message, message
