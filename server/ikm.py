"""Visitor satisfaction: the Indeks Kepuasan Masyarakat (IKM) of PermenPANRB 14/2017.

Pure: no I/O. `parse_rating` validates the body of `POST .../tickets/{id}/rating`;
the index itself is computed in server/measure.py (`ikm`), from the rollups.

The regulation's method, per element (unsur) of the survey:
- NRR (nilai rata-rata) = sum of the element's answers / respondents who answered it;
- weighted NRR = NRR x 1/9 (the regulation prints the weight rounded to 0.111; we use
  the exact 1/9, so a survey of all 4s gives exactly 4.00 and 100.00, not 3.996);
- IKM = sum of the 9 weighted NRRs (1-4); the index is IKM x 25 (25-100);
- the conversion table maps the index to a quality letter and category.

Arithmetic is exact (fractions); the index is rounded half up to two decimals before it
is categorised, as the regulation's table is written in two decimals.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from server.errors import InvalidField, Unprocessable

SCORE_MIN = 1
SCORE_MAX = 4
COMMENT_MAX_CHARS = 500


@dataclass(frozen=True)
class Element:
    """One survey element (unsur): its question and the 4 answers, worst (1) to best (4)."""

    slug: str
    label: str
    question: str
    answers: tuple[str, str, str, str]
    label_en: str
    question_en: str
    answers_en: tuple[str, str, str, str]

    def as_json(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "label": self.label,
            "question": self.question,
            "answers": list(self.answers),
            "label_en": self.label_en,
            "question_en": self.question_en,
            "answers_en": list(self.answers_en),
        }


# The 9 elements in the regulation's order, with the answer scale of its sample
# questionnaire (Lampiran PermenPANRB 14/2017).
ELEMENTS: tuple[Element, ...] = (
    Element(
        "persyaratan",
        "Persyaratan",
        "Bagaimana pendapat Anda tentang kesesuaian persyaratan pelayanan dengan jenis "
        "pelayanannya?",
        ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"),
        "Requirements",
        "How well do the requirements match the service?",
        ("Not appropriate", "Somewhat appropriate", "Appropriate", "Very appropriate"),
    ),
    Element(
        "prosedur",
        "Sistem, mekanisme dan prosedur",
        "Bagaimana pemahaman Anda tentang kemudahan prosedur pelayanan di unit ini?",
        ("Tidak mudah", "Kurang mudah", "Mudah", "Sangat mudah"),
        "System, mechanism and procedure",
        "How easy is the service procedure here?",
        ("Not easy", "Somewhat easy", "Easy", "Very easy"),
    ),
    Element(
        "waktu",
        "Waktu penyelesaian",
        "Bagaimana pendapat Anda tentang kecepatan waktu dalam memberikan pelayanan?",
        ("Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat"),
        "Completion time",
        "How fast was the service?",
        ("Not fast", "Somewhat fast", "Fast", "Very fast"),
    ),
    Element(
        "biaya",
        "Biaya/tarif",
        "Bagaimana pendapat Anda tentang kewajaran biaya/tarif dalam pelayanan?",
        ("Sangat mahal", "Cukup mahal", "Murah", "Gratis"),
        "Cost/fee",
        "How fair is the cost or fee of the service?",
        ("Very expensive", "Fairly expensive", "Cheap", "Free"),
    ),
    Element(
        "produk",
        "Produk spesifikasi jenis pelayanan",
        "Bagaimana pendapat Anda tentang kesesuaian produk pelayanan antara yang tercantum "
        "dalam standar pelayanan dengan hasil yang diberikan?",
        ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"),
        "Service product specification",
        "How well does the result match what the service standard promises?",
        ("Not appropriate", "Somewhat appropriate", "Appropriate", "Very appropriate"),
    ),
    Element(
        "kompetensi",
        "Kompetensi pelaksana",
        "Bagaimana pendapat Anda tentang kompetensi/kemampuan petugas dalam pelayanan?",
        ("Tidak kompeten", "Kurang kompeten", "Kompeten", "Sangat kompeten"),
        "Staff competence",
        "How competent were the staff?",
        ("Not competent", "Somewhat competent", "Competent", "Very competent"),
    ),
    Element(
        "perilaku",
        "Perilaku pelaksana",
        "Bagaimana pendapat Anda tentang perilaku petugas dalam pelayanan terkait "
        "kesopanan dan keramahan?",
        (
            "Tidak sopan dan ramah",
            "Kurang sopan dan ramah",
            "Sopan dan ramah",
            "Sangat sopan dan ramah",
        ),
        "Staff behaviour",
        "How polite and friendly were the staff?",
        ("Not polite", "Somewhat polite", "Polite and friendly", "Very polite and friendly"),
    ),
    Element(
        "pengaduan",
        "Penanganan pengaduan, saran dan masukan",
        "Bagaimana pendapat Anda tentang penanganan pengaduan, saran dan masukan pengguna layanan?",
        (
            "Tidak ada",
            "Ada tetapi tidak berfungsi",
            "Berfungsi kurang maksimal",
            "Dikelola dengan baik",
        ),
        "Handling of complaints and suggestions",
        "How are complaints and suggestions handled?",
        ("None", "Exists but does not work", "Works, not fully", "Well managed"),
    ),
    Element(
        "sarana",
        "Sarana dan prasarana",
        "Bagaimana pendapat Anda tentang kualitas sarana dan prasarana?",
        ("Buruk", "Cukup", "Baik", "Sangat baik"),
        "Facilities",
        "How good are the facilities?",
        ("Poor", "Fair", "Good", "Very good"),
    ),
)

ELEMENT_SLUGS: tuple[str, ...] = tuple(element.slug for element in ELEMENTS)

# The one-tap question's answers, 1 to 4.
SCORE_LABELS: tuple[str, str, str, str] = ("Tidak baik", "Kurang baik", "Baik", "Sangat baik")
SCORE_LABELS_EN: tuple[str, str, str, str] = ("Poor", "Fair", "Good", "Very good")

# The regulation's conversion table: lowest index of each band, quality letter, category.
CATEGORIES: tuple[tuple[Decimal, str, str], ...] = (
    (Decimal("88.31"), "A", "Sangat Baik"),
    (Decimal("76.61"), "B", "Baik"),
    (Decimal("65.00"), "C", "Kurang Baik"),
    (Decimal("25.00"), "D", "Tidak Baik"),
)

_FIELDS = frozenset({"score", "answers", "comment"})


@dataclass(frozen=True)
class Rating:
    score: int
    answers: dict[str, int]
    comment: str | None


def _score(field: str, value: object) -> int:
    # bool is a subclass of int, but `true` is not a score.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField(field, f"must be a whole number from {SCORE_MIN} to {SCORE_MAX}.")
    if not SCORE_MIN <= value <= SCORE_MAX:
        raise Unprocessable(f"{field} must be from {SCORE_MIN} to {SCORE_MAX}, not {value}.")
    return value


def parse_rating(body: object) -> Rating:
    """Validate a decoded rating body; InvalidField (400) or Unprocessable (422) if bad."""
    if not isinstance(body, dict):
        raise InvalidField("body", "must be a JSON object.")
    for name in body:
        if name not in _FIELDS:
            raise InvalidField(str(name), "is not a known field.")
    if "score" not in body:
        raise InvalidField("score", "is required.")
    score = _score("score", body["score"])

    answers: dict[str, int] = {}
    raw_answers = body.get("answers")
    if raw_answers is not None:
        if not isinstance(raw_answers, dict):
            raise InvalidField("answers", "must be an object of element: score.")
        for slug, value in raw_answers.items():
            if slug not in ELEMENT_SLUGS:
                raise InvalidField(f"answers.{slug}", "is not a survey element.")
            answers[slug] = _score(f"answers.{slug}", value)

    comment: str | None = None
    raw_comment = body.get("comment")
    if raw_comment is not None:
        if not isinstance(raw_comment, str):
            raise InvalidField("comment", "must be a string.")
        comment = raw_comment.strip() or None
        if comment is not None and len(comment) > COMMENT_MAX_CHARS:
            raise Unprocessable(
                f"comment must be at most {COMMENT_MAX_CHARS} characters, not {len(comment)}."
            )
    return Rating(score=score, answers=answers, comment=comment)


def _rounded(value: Fraction, places: int = 2) -> Decimal:
    """Round an exact fraction half up (as people and spreadsheets do), not half even."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def category(index: Decimal | float) -> tuple[str, str]:
    """(quality letter, category) of an index (25-100) by the regulation's table."""
    value = Decimal(str(index)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    for lowest, quality, name in CATEGORIES:
        if value >= lowest:
            return quality, name
    return CATEGORIES[-1][1], CATEGORIES[-1][2]
