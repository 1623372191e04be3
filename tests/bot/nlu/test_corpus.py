from collections import Counter
from pathlib import Path

import pytest

from quita.bot.nlu.corpus import CorpusError, fingerprint, load_split
from quita.bot.nlu.intents import Intent
from quita.bot.nlu.normalize import normalize


def test_every_intent_has_hundreds_of_training_and_at_least_40_evaluation_examples() -> None:
    train = Counter(e.intent for e in load_split("train"))
    evaluation = Counter(e.intent for e in load_split("eval"))
    assert set(train) == set(Intent) == set(evaluation)
    assert min(train.values()) >= 180
    assert min(evaluation.values()) >= 40


def test_train_and_eval_do_not_overlap_after_normalisation() -> None:
    train = {normalize(e.text) for e in load_split("train")}
    shared = [e.text for e in load_split("eval") if normalize(e.text) in train]
    assert shared == []


def test_no_text_carries_two_labels() -> None:
    seen: dict[str, Intent] = {}
    conflicts = []
    for example in load_split("train") + load_split("eval"):
        key = normalize(example.text)
        if key in seen and seen[key] is not example.intent:
            conflicts.append((example.source, example.text))
        seen.setdefault(key, example.intent)
    assert conflicts == []


def test_bad_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "opt_out.txt").write_text("parar\n", encoding="utf-8")
    (tmp_path / "train" / "gossip.txt").write_text("oi\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"gossip\.txt.*not an intent label"):
        load_split("train", tmp_path)
    (tmp_path / "train" / "gossip.txt").unlink()
    (tmp_path / "train" / "deceased.txt").write_text("# only a comment\n\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"deceased\.txt: no examples"):
        load_split("train", tmp_path)
    with pytest.raises(CorpusError, match="missing data folder"):
        load_split("eval", tmp_path)
    with pytest.raises(CorpusError, match="unknown split"):
        load_split("test", tmp_path)


def test_fingerprint_follows_the_training_data(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "opt_out.txt").write_text("parar\n", encoding="utf-8")
    before = fingerprint(tmp_path)
    (tmp_path / "train" / "opt_out.txt").write_text("parar\nsair\n", encoding="utf-8")
    assert fingerprint(tmp_path) != before
