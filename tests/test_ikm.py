"""The IKM of PermenPANRB 14/2017 (measure.ikm), worked by hand, and rating validation."""

from __future__ import annotations

import pytest

from server import measure
from server.errors import InvalidField, Unprocessable
from server.ikm import ELEMENT_SLUGS, ELEMENTS, Rating, category, parse_rating

P, S, W, B, PR, K, PE, PG, SA = ELEMENT_SLUGS


def full(score: int, *answers: int) -> Rating:
    assert len(answers) == 9
    return Rating(score=score, answers=dict(zip(ELEMENT_SLUGS, answers, strict=True)), comment=None)


def taps(*scores: int) -> list[Rating]:
    return [Rating(score=s, answers={}, comment=None) for s in scores]


# ---------------------------------------------------------------- the elements


def test_nine_elements_in_the_regulations_order() -> None:
    assert ELEMENT_SLUGS == (
        "persyaratan", "prosedur", "waktu", "biaya", "produk",
        "kompetensi", "perilaku", "pengaduan", "sarana",
    )  # fmt: skip
    for element in ELEMENTS:
        assert len(element.answers) == 4 and len(element.answers_en) == 4
        assert element.label and element.question and element.label_en
        assert element.as_json()["slug"] == element.slug


# ---------------------------------------------------------------- hand-worked indexes


def ikm_of(ratings: list[Rating]) -> dict[str, object]:
    """measure.ikm over the complete surveys among some ratings (the rollups keep the
    count and the answer sums of exactly those)."""
    complete = [r for r in ratings if len(r.answers) == len(ELEMENT_SLUGS)]
    sums = {slug: sum(r.answers[slug] for r in complete) for slug in ELEMENT_SLUGS}
    return measure.ikm(len(complete), sums)


def test_empty() -> None:
    summary = ikm_of([])
    assert summary["n"] == 0
    assert summary["score"] is None and summary["category"] is None
    assert summary["nrr"] == dict.fromkeys(ELEMENT_SLUGS)


def test_two_respondents_all_elements() -> None:
    # Respondent 1 answers 3 everywhere, respondent 2 answers 4 everywhere.
    # NRR per element = (3 + 4) / 2 = 3.5; IKM = 9 x 3.5 x 1/9 = 3.5;
    # index = 3.5 x 25 = 87.50 -> 76.61-88.30 -> B "Baik".
    summary = ikm_of([full(3, *[3] * 9), full(4, *[4] * 9)])
    assert summary["n"] == 2
    assert summary["nrr"] == dict.fromkeys(ELEMENT_SLUGS, 3.5)
    assert summary["score"] == 87.50
    assert summary["category"] == "B"


def test_four_respondents_mixed() -> None:
    # element      r1 r2 r3 r4   sum  NRR
    # persyaratan   4  3  3  3    13  3.25
    # prosedur      3  3  3  3    12  3.00
    # waktu         2  3  2  3    10  2.50
    # biaya         4  4  4  4    16  4.00
    # produk        3  3  4  3    13  3.25
    # kompetensi    4  4  3  3    14  3.50
    # perilaku      4  4  4  3    15  3.75
    # pengaduan     2  2  3  3    10  2.50
    # sarana        3  4  3  4    14  3.50
    # sum of NRR = 29.25; IKM = 29.25 x 1/9 = 3.25; index = 3.25 x 25 = 81.25 -> B "Baik".
    # (The regulation's rounded weight 0.111 would give 29.25 x 0.111 = 3.24675 -> 81.17.)
    ratings = [
        full(3, 4, 3, 2, 4, 3, 4, 4, 2, 3),
        full(4, 3, 3, 3, 4, 3, 4, 4, 2, 4),
        full(3, 3, 3, 2, 4, 4, 3, 4, 3, 3),
        full(2, 3, 3, 3, 4, 3, 3, 3, 3, 4),
    ]
    summary = ikm_of(ratings)
    assert summary["nrr"] == {
        P: 3.25, S: 3.0, W: 2.5, B: 4.0, PR: 3.25, K: 3.5, PE: 3.75, PG: 2.5, SA: 3.5,
    }  # fmt: skip
    assert summary["score"] == 81.25
    assert summary["category"] == "B"


def test_only_complete_surveys_count() -> None:
    # Respondent 1 answers all 9 with 4; respondent 2 answers only "waktu" with 1: an
    # incomplete survey counts for the one-tap rating, not for the IKM -> 100.00, A.
    ratings = [full(4, *[4] * 9), Rating(score=1, answers={W: 1}, comment=None)]
    summary = ikm_of(ratings)
    assert summary["n"] == 1
    assert summary["nrr"][W] == 4.0
    assert summary["score"] == 100.0
    assert summary["category"] == "A"


def test_repeating_decimal_rounds_half_up_to_two_places() -> None:
    # One respondent: 3 everywhere except "biaya" = 4. Sum of NRR = 8 x 3 + 4 = 28;
    # IKM = 28 / 9 = 3.1111...; index = 77.777... -> 77.78 -> B.
    summary = ikm_of([full(3, 3, 3, 3, 4, 3, 3, 3, 3, 3)])
    assert summary["score"] == 77.78
    assert summary["category"] == "B"


def test_no_complete_survey_means_no_index() -> None:
    # Answers miss "sarana" altogether: no complete survey, so no IKM (the one-tap
    # scores are the `rating` figure, never an index).
    partial = {slug: 4 for slug in ELEMENT_SLUGS if slug != SA}
    ratings = [Rating(score=4, answers=partial, comment=None), *taps(2, 3)]
    summary = ikm_of(ratings)
    assert summary["n"] == 0 and summary["score"] is None


def test_all_worst_and_all_best() -> None:
    assert ikm_of([full(1, *[1] * 9)])["score"] == 25.0
    assert ikm_of([full(1, *[1] * 9)])["category"] == "D"
    assert ikm_of([full(4, *[4] * 9)])["score"] == 100.0
    assert ikm_of([full(4, *[4] * 9), full(4, *[4] * 9)])["category"] == "A"


# ---------------------------------------------------------------- category boundaries


@pytest.mark.parametrize(
    ("index", "quality", "name"),
    [
        (25.00, "D", "Tidak Baik"),
        (64.99, "D", "Tidak Baik"),
        (65.00, "C", "Kurang Baik"),
        (76.60, "C", "Kurang Baik"),
        (76.61, "B", "Baik"),
        (88.30, "B", "Baik"),
        (88.31, "A", "Sangat Baik"),
        (100.00, "A", "Sangat Baik"),
    ],
)
def test_conversion_table(index: float, quality: str, name: str) -> None:
    assert category(index) == (quality, name)


@pytest.mark.parametrize(
    ("count", "total", "index", "quality"),
    [
        # average 13/5 = 2.6 -> 65.00: the lowest C.
        (5, 13, 65.00, "C"),
        # average 12999/5000 = 2.5998 -> 64.995 -> rounds half up to 65.00 -> C.
        (5000, 12999, 65.00, "C"),
        # average 12997/5000 = 2.5994 -> 64.985 -> 64.99 -> D.
        (5000, 12997, 64.99, "D"),
        # average 383/125 = 3.064 -> 76.60: the highest C.
        (125, 383, 76.60, "C"),
        # average 7661/2500 = 3.0644 -> 76.61: the lowest B.
        (2500, 7661, 76.61, "B"),
        # average 883/250 = 3.532 -> 88.30: the highest B.
        (250, 883, 88.30, "B"),
        # average 8831/2500 = 3.5324 -> 88.31: the lowest A.
        (2500, 8831, 88.31, "A"),
    ],
)
def test_boundaries_through_the_index(count: int, total: int, index: float, quality: str) -> None:
    # `count` complete surveys whose answers add up to `total` on every element: each
    # NRR is total / count, and so is their mean.
    summary = measure.ikm(count, dict.fromkeys(ELEMENT_SLUGS, total))
    assert summary["score"] == index
    assert summary["category"] == quality


# ---------------------------------------------------------------- parse_rating


def test_parse_minimal_and_full() -> None:
    assert parse_rating({"score": 4}) == Rating(4, {}, None)
    body = {"score": 1, "answers": {W: 2, SA: 4}, "comment": "  Antrean lama.  "}
    assert parse_rating(body) == Rating(1, {W: 2, SA: 4}, "Antrean lama.")
    assert parse_rating({"score": 3, "answers": None, "comment": None}) == Rating(3, {}, None)
    assert parse_rating({"score": 3, "comment": "   "}).comment is None
    assert parse_rating({"score": 2, "comment": "x" * 500}).comment == "x" * 500


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        (None, "body"),
        ("4", "body"),
        ({}, "score"),
        ({"score": 4, "stars": 5}, "stars"),
        ({"score": True}, "score"),
        ({"score": "4"}, "score"),
        ({"score": 3.0}, "score"),
        ({"score": None}, "score"),
        ({"score": 4, "answers": [4, 4]}, "answers"),
        ({"score": 4, "answers": {"parkir": 3}}, "answers.parkir"),
        ({"score": 4, "answers": {W: False}}, "answers.waktu"),
        ({"score": 4, "answers": {W: "3"}}, "answers.waktu"),
        ({"score": 4, "comment": 12}, "comment"),
    ],
)
def test_parse_invalid_fields(body: object, field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_rating(body)
    assert caught.value.status == 400
    assert caught.value.field == field
    assert field in caught.value.message


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"score": 0}, "score"),
        ({"score": 5}, "score"),
        ({"score": -1}, "score"),
        ({"score": 4, "answers": {SA: 0}}, "answers.sarana"),
        ({"score": 4, "answers": {SA: 7}}, "answers.sarana"),
        ({"score": 4, "comment": "x" * 501}, "comment"),
    ],
)
def test_parse_out_of_range(body: object, named: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        parse_rating(body)
    assert caught.value.status == 422
    assert caught.value.message.startswith(named)
