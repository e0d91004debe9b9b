import pytest

from bot.privacy import is_valid_id_card, is_valid_pesel, mask_pii

VALID_PESEL = "44051401359"  # the well-known example with a correct checksum


def test_pesel_checksum():
    assert is_valid_pesel(VALID_PESEL)
    assert not is_valid_pesel("44051401358")
    assert not is_valid_pesel("4405140135")


def test_masks_valid_pesel_but_not_other_eleven_digit_numbers():
    assert mask_pii(f"Klient PESEL {VALID_PESEL} prosi o zasiłek") == "Klient PESEL [PESEL] prosi o zasiłek"
    assert "12345678901" in mask_pii("numer sprawy 12345678901")


@pytest.mark.parametrize(
    "phone", ["600 123 456", "600-123-456", "600123456", "+48 600 123 456", "0048600123456", "(22) 123 45 67"]
)
def test_masks_phone_numbers(phone):
    masked = mask_pii(f"tel. {phone}, proszę oddzwonić")
    assert "[TELEFON]" in masked
    assert not any(ch.isdigit() for ch in masked)


def test_masks_email_and_account():
    masked = mask_pii("pisz na jan.kowalski@example.com, konto 61 1090 1014 0000 0712 1981 2874")
    assert masked == "pisz na [EMAIL], konto [KONTO]"


def test_id_card_check_digit():
    assert is_valid_id_card("ABA300000")
    assert not is_valid_id_card("ABA300001")
    assert mask_pii("dowód ABA300000") == "dowód [DOWÓD]"
    assert mask_pii("kod ABC123456") == "kod ABC123456"


@pytest.mark.parametrize(
    "text",
    [
        "Kryterium wynosi 1010 zł, a dla osoby w rodzinie 823 zł.",
        "art. 8 ust. 1 pkt 2 ustawy z 12 marca 2004 r., Dz.U. 2025 poz. 1214",
        "Od 1.01.2025 r. kwota 459 zł z 1 ha przeliczeniowego.",
        "zasiłek 2 000 zł za 2024 rok",
    ],
)
def test_leaves_legal_text_and_amounts_alone(text):
    assert mask_pii(text) == text
