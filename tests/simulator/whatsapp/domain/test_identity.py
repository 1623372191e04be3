from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from quita.simulator.whatsapp.domain.identity import br_key, canonical_wa_id, digits, new_wamid


def test_ddd_rule_and_overrides() -> None:
    assert canonical_wa_id("5511988887777") == "5511988887777"
    assert canonical_wa_id("551188887777") == "5511988887777"
    assert canonical_wa_id("5547997192447") == "554797192447"
    assert canonical_wa_id("5547997192447", legacy_min_ddd=None) == "5547997192447"
    assert canonical_wa_id("5511988887777", legacy_numbers={"551188887777"}) == "551188887777"
    assert canonical_wa_id("5547997192447", modern_numbers={"554797192447"}) == "5547997192447"
    assert canonical_wa_id("14155550123") == "14155550123"
    assert canonical_wa_id("551133334444") == "551133334444"  # landline: untouched


@given(ddd=st.integers(11, 99), local=st.integers(60_000_000, 99_999_999))
def test_both_forms_of_a_br_mobile_are_one_user(ddd: int, local: int) -> None:
    modern, legacy = f"55{ddd}9{local}", f"55{ddd}{local}"
    assert canonical_wa_id(modern) == canonical_wa_id(legacy)
    assert br_key(modern) == br_key(legacy) == legacy


def test_wamid_embeds_the_number_and_is_unique() -> None:
    first, second = new_wamid("554797192447"), new_wamid("554797192447")
    assert first != second
    assert first.startswith("wamid.") and len(first) < 128
    assert base64.b64decode(first.removeprefix("wamid.")).startswith(b"\x1c\x18\x0c554797192447")
    assert digits("+55 (47) 9719-2447") == "554797192447"
