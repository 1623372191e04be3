from pathlib import Path

from quita.bot.nlu.classifier import IntentClassifier, cache_dir, cache_key, load_or_train
from quita.bot.nlu.corpus import load_split
from quita.bot.nlu.intents import Intent


def test_predicts_typical_messages(classifier: IntentClassifier) -> None:
    assert classifier.predict("manda o boleto pfv").intent is Intent.REQUEST_BOLETO
    assert classifier.predict("qual a chave pix").intent is Intent.REQUEST_PIX
    assert classifier.predict("ja paguei ontem").intent is Intent.ALREADY_PAID
    prediction = classifier.predict("sexta eu pago")
    assert prediction.intent is Intent.PROMISE_TO_PAY
    assert 0 < prediction.confidence <= 1
    assert len(prediction.ranking) == len(Intent)
    assert abs(sum(p for _, p in prediction.ranking) - 1) < 1e-6


def test_cache_round_trip_gives_the_same_predictions(classifier: IntentClassifier, nlu_cache: Path) -> None:
    files = list(nlu_cache.glob("intent-*.pkl"))
    assert len(files) == 1 and cache_key() in files[0].name
    reloaded = load_or_train(directory=nlu_cache)
    for text in ("oi", "nao devo isso", "to desempregado", "quero falar com atendente"):
        assert reloaded.predict(text) == classifier.predict(text)


def test_training_is_deterministic(classifier: IntentClassifier, tmp_path: Path) -> None:
    retrained = IntentClassifier.train(load_split("train"))
    for text in ("da pra parcelar em 10x?", "isso é golpe?", "nao sou eu"):
        assert retrained.predict(text) == classifier.predict(text)


def test_unreadable_cache_is_rebuilt(tmp_path: Path, classifier: IntentClassifier) -> None:
    tiny = tmp_path / "data"
    (tiny / "train").mkdir(parents=True)
    (tiny / "train" / "opt_out.txt").write_text("parar\nsair\nstop\n", encoding="utf-8")
    (tiny / "train" / "request_pix.txt").write_text("manda o pix\nqual a chave pix\npix\n", encoding="utf-8")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / f"intent-{cache_key(tiny)}.pkl").write_bytes(b"not a pickle")
    rebuilt = load_or_train(tiny, cache)
    assert rebuilt.predict("manda o pix ai").intent is Intent.REQUEST_PIX


def test_cache_location_follows_the_environment(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("QUITA_NLU_CACHE_DIR", raising=False)
    monkeypatch.setenv("QUITA_DATA_DIR", str(tmp_path))
    assert cache_dir() == tmp_path / "cache" / "nlu"
    monkeypatch.setenv("QUITA_NLU_CACHE_DIR", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x"
