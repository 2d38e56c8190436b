"""Validation and normalisation of what people type: every error has its own message."""

from __future__ import annotations

import pytest

from chalicelib.domain.attendee import clean_line, to_katakana, validate_registration
from chalicelib.text import messages as msg
from tests.conftest import valid_form

CATEGORIES = ["councillor", "civil-servant", "mayor", "company", "other"]


def errors_for(**overrides: object) -> dict[str, str]:
    form: dict[str, object] = dict(valid_form())
    form.update(overrides)
    return validate_registration(form, CATEGORIES).errors


def test_valid_form_gives_an_attendee() -> None:
    result = validate_registration(valid_form(), CATEGORIES)
    assert result.errors == {}
    assert result.attendee is not None
    assert result.attendee.kana == "バンダイ タロウ"


@pytest.mark.parametrize("field", ["name", "kana", "organization", "email"])
def test_each_required_field_has_its_own_message(field: str) -> None:
    assert errors_for(**{field: "   "}) == {field: msg.field_error(msg.REQUIRED, field)}


def test_missing_fields_count_as_empty() -> None:
    errors = validate_registration({}, CATEGORIES).errors
    assert list(errors) == ["name", "kana", "organization", "email", "category", "consent"]


@pytest.mark.parametrize(
    ("field", "limit"), [("name", 50), ("kana", 100), ("organization", 100), ("job_title", 50), ("question", 1000)]
)
def test_too_long_says_the_limit_and_the_length(field: str, limit: int) -> None:
    value = ("ア" if field == "kana" else "あ") * (limit + 1)
    message = errors_for(**{field: value})[field]
    assert str(limit) in message and str(limit + 1) in message


def test_job_title_and_question_are_optional() -> None:
    assert errors_for(job_title="", question="") == {}


def test_kana_accepts_hiragana_and_half_width_and_returns_katakana() -> None:
    result = validate_registration(valid_form(kana="ばんだい ﾀﾛｳ"), CATEGORIES)
    assert result.attendee is not None and result.attendee.kana == "バンダイ タロウ"


def test_kana_rejects_kanji_and_latin() -> None:
    assert errors_for(kana="磐梯") == {"kana": msg.KANA_ONLY}
    assert errors_for(kana="Bandai") == {"kana": msg.KANA_ONLY}


def test_full_width_input_is_normalised_and_whitespace_trimmed() -> None:
    result = validate_registration(
        valid_form(name="　磐梯　　太郎　", organization="ＡＢＣ　株式会社", email="ＴＡＲＯ＠Ｅｘａｍｐｌｅ．ｊｐ"),
        CATEGORIES,
    )
    assert result.attendee is not None
    assert result.attendee.name == "磐梯 太郎"
    assert result.attendee.organization == "ABC 株式会社"
    assert result.attendee.email == "TARO@example.jp"  # domain lowercased; local part kept as typed
    assert result.attendee.email_key == "taro@example.jp"


def test_line_breaks_and_control_characters_never_survive_in_one_line_fields() -> None:
    assert clean_line("Taro\r\nBcc: x@example.com\x00\u202e") == "Taro Bcc: x@example.com"


def test_question_keeps_its_line_breaks() -> None:
    result = validate_registration(valid_form(question="一つ目\r\n\r\n二つ目"), CATEGORIES)
    assert result.attendee is not None and result.attendee.question == "一つ目\n\n二つ目"


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("taro.example.jp", msg.EMAIL_NO_AT),
        ("taro@", msg.EMAIL_INVALID),
        ("taro@@example.jp", msg.EMAIL_INVALID),
        ("taro@example", msg.EMAIL_INVALID),
        ("ta ro@example.jp", msg.EMAIL_INVALID),
    ],
)
def test_email_syntax_errors_are_specific(address: str, message: str) -> None:
    assert errors_for(email=address) == {"email": message}


def test_category_must_be_one_of_the_events() -> None:
    assert errors_for(category="") == {"category": msg.field_error(msg.REQUIRED_CHOICE, "category")}
    assert errors_for(category="astronaut") == {"category": msg.UNKNOWN_CATEGORY}


@pytest.mark.parametrize("consent", ["", "no", None, False])
def test_consent_is_required(consent: object) -> None:
    assert errors_for(consent=consent) == {"consent": msg.CONSENT_NEEDED}


def test_json_true_counts_as_consent() -> None:
    assert errors_for(consent=True) == {}


def test_non_text_values_are_refused_by_field() -> None:
    errors = errors_for(name=["a"], organization=12)
    assert errors == {
        "name": msg.field_error(msg.NOT_TEXT, "name"),
        "organization": msg.field_error(msg.NOT_TEXT, "organization"),
    }


def test_values_are_returned_normalised_for_the_form_to_show_again() -> None:
    result = validate_registration(valid_form(email="bad", kana="ばんだい"), CATEGORIES)
    assert result.values["kana"] == "バンダイ"
    assert result.values["email"] == "bad"
    assert result.attendee is None


def test_to_katakana_leaves_other_characters() -> None:
    assert to_katakana("ぁゖーA") == "ァヶーA"


def test_addresses_are_compared_on_ascii_letters_only_and_sent_with_an_ascii_domain() -> None:
    from chalicelib.domain.attendee import email_key, sending_address

    assert email_key("Taro.Bandai@Example.JP") == email_key("taro.bandai@example.jp")
    assert email_key("user@例え.jp") == "user@例え.jp"  # nothing beyond A-Z is folded
    assert sending_address("user@例え.jp") == "user@xn--r8jz45g.jp"
    assert sending_address("taro@example.jp") == "taro@example.jp"


@pytest.mark.parametrize("bad", ["\ud800", "a\udfffb", "\ufffe", "\uffff", "\ufdd0", "\U0010ffff", "\U0001fffe"])
def test_what_is_not_text_is_named_on_its_field(bad: str) -> None:
    result = validate_registration(valid_form(organization=f"磐梯町{bad}役場"), ["councillor", "civil-servant"])
    assert result.attendee is None and "文字として扱えない" in result.errors["organization"]
    result.values["organization"].encode("utf-8")  # what is shown again can be sent to the browser


def test_the_one_redirect_rule_keeps_every_target_on_this_site() -> None:
    from chalicelib.domain.links import local_path
    from tests.redirect_corpus import corpus

    assert len(corpus()) >= 60
    for target in corpus():
        assert local_path(target) == "/", repr(target)
        assert local_path(target, within="/organizer", fallback="/organizer") == "/organizer", repr(target)
    for fine in ("/", "/events/cdo-seminar", "/organizer/events/x/check-in/R1?token=a.b", "/events/x?q=%E3%81%82+b"):
        assert local_path(fine) == fine
