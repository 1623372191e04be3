from quita.br.text import fold


def test_fold() -> None:
    assert fold("  São   PAULO ") == "sao paulo"
    assert fold("Vencimento\t") == "vencimento"
    assert fold("NÃO") == fold("nao") == "nao"
    assert fold("Ação") == "acao"
    assert fold("ﬁ") == "fi"  # NFKD compatibility
    assert fold("Straße") == "strasse"  # casefold, not lower
    assert fold("") == ""
    assert fold("linha1\nlinha2") == "linha1 linha2"
