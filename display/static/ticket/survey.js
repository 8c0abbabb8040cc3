// The satisfaction survey of one ticket (PermenPANRB 14/2017): a one-tap overall score,
// plus the optional 9-element questionnaire and a comment. Used by the visitor's status
// page and by the counter's rating tablet.
//
// One tap on a score sends it at once. When the visitor opens the full questionnaire,
// a tap only selects the score and the "send" button sends everything together.
// The questionnaire is compact (each element's four answers in one row) and an error
// (no overall score, a refusal) is scrolled into view and focused: the send button sits
// at the bottom of the form, far from the scores.

import { ApiError, api, retrying } from "../common/api.js";
import { clear, el } from "./dom.js";
import { getLang } from "../common/i18n.js";

const SCORES = [1, 2, 3, 4];

let elementsOnce = null;

// The nine elements as the server defines them (`GET /api/v1/survey`), fetched once.
export function surveyElements() {
  elementsOnce ??= api("GET", "/api/v1/survey")
    .then((doc) => doc.elements)
    .catch(() => {
      elementsOnce = null; // try again with the next survey
      return [];
    });
  return elementsOnce;
}

export class Survey {
  // elements: the survey's elements (default: fetched from the API); t: translator;
  // onFinished(outcome): "thanks" or "already" once the rating is in.
  // `path` and `extra` (fields added to the body) let the counter's rating tablet rate
  // the ticket its counter finished last without knowing its secret id.
  constructor(container, { site, ticketId, elements, t, onFinished = () => {}, path = null, extra = {} }) {
    this.container = container;
    this.site = site;
    this.ticketId = ticketId;
    this.path = path;
    this.extra = extra;
    this.elements = elements || [];
    if (!elements) {
      surveyElements().then((list) => {
        this.elements = list;
        this.render();
      });
    }
    this.t = t;
    this.onFinished = onFinished;
    this.phase = "form"; // form | sending | thanks | already
    this.score = null;
    this.answers = {};
    this.comment = "";
    this.expanded = false;
    this.error = "";
    this.revealError = false; // scroll the error into view after the next render
  }

  fail(message) {
    this.error = message;
    this.revealError = true;
    this.render();
  }

  done(outcome) {
    this.phase = outcome;
    this.render();
    this.onFinished(outcome);
  }

  async send() {
    if (this.phase === "sending") return;
    if (this.score === null) {
      this.fail(this.t("pick_score"));
      return;
    }
    const body = { ...this.extra, score: this.score };
    if (Object.keys(this.answers).length) body.answers = { ...this.answers };
    if (this.comment.trim()) body.comment = this.comment.trim().slice(0, 500);
    this.phase = "sending";
    this.error = "";
    this.render();
    const path =
      this.path ||
      `/api/v1/sites/${encodeURIComponent(this.site)}/tickets/${encodeURIComponent(this.ticketId)}/rating`;
    try {
      await retrying("POST", path, { body });
      this.done("thanks");
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        this.done("already");
        return;
      }
      this.phase = "form";
      const message = err instanceof ApiError && err.status === 0 ? this.t("network") : err.message;
      this.fail(this.t("rating_failed", { message }));
    }
  }

  tapScore(score) {
    this.score = score;
    if (this.error) {
      this.error = "";
      const shown = this.container.querySelector(".survey-error");
      if (shown) shown.remove();
      const group = this.container.querySelector(".scores");
      if (group) group.classList.remove("missing");
    }
    if (!this.expanded) {
      this.send();
      return;
    }
    for (const button of this.container.querySelectorAll(".score")) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.score) === score));
    }
  }

  answerButtons(element, lang) {
    const labels = lang === "en" ? element.answers_en : element.answers;
    return labels.map((label, index) =>
      el(
        "button",
        {
          type: "button",
          class: `answer answer-${index + 1}`,
          dataset: { value: String(index + 1) },
          "aria-pressed": String(this.answers[element.slug] === index + 1),
          onclick: (event) => {
            const value = index + 1;
            if (this.answers[element.slug] === value) delete this.answers[element.slug];
            else this.answers[element.slug] = value;
            for (const sibling of event.currentTarget.parentElement.children) {
              sibling.setAttribute("aria-pressed", String(sibling === event.currentTarget && this.answers[element.slug] === value));
            }
          },
        },
        label,
      ),
    );
  }

  questionnaire(lang) {
    const details = el("details", { class: "questionnaire" });
    details.open = this.expanded;
    details.addEventListener("toggle", () => {
      this.expanded = details.open;
      const hint = this.container.querySelector(".survey-hint");
      if (hint) hint.textContent = this.t(this.expanded ? "survey_more_help" : "survey_tap");
    });
    details.append(el("summary", {}, this.t("survey_more")));
    this.elements.forEach((element, index) => {
      details.append(
        el(
          "fieldset",
          { class: "element", "aria-describedby": `q-${this.ticketId}-${index}` },
          el("legend", {}, `${index + 1}. ${lang === "en" ? element.label_en : element.label}`),
          el(
            "p",
            { class: "question", id: `q-${this.ticketId}-${index}` },
            lang === "en" ? element.question_en : element.question,
          ),
          el("div", { class: "answers" }, this.answerButtons(element, lang)),
        ),
      );
    });
    const textarea = el("textarea", { id: `comment-${this.ticketId}`, maxlength: 500, rows: 3 });
    textarea.value = this.comment;
    textarea.addEventListener("input", () => {
      this.comment = textarea.value;
    });
    details.append(
      el("label", { class: "comment", for: `comment-${this.ticketId}` }, this.t("comment")),
      textarea,
      el("button", { type: "button", class: "submit", onclick: () => this.send() }, this.t("submit")),
    );
    return details;
  }

  render() {
    const lang = getLang();
    clear(this.container);
    if (this.phase === "thanks" || this.phase === "already") {
      this.container.append(
        el("div", { class: "survey-thanks", role: "status" }, el("p", {}, this.t(this.phase === "thanks" ? "thanks" : "already_rated"))),
      );
      return;
    }
    const sending = this.phase === "sending";
    const scores = SCORES.map((score) =>
      el(
        "button",
        {
          type: "button",
          class: `score score-${score}`,
          dataset: { score: String(score) },
          "aria-pressed": String(this.score === score),
          disabled: sending,
          onclick: () => this.tapScore(score),
        },
        el("span", { class: "score-face", "aria-hidden": "true" }),
        el("span", { class: "score-label" }, this.t(`score_${score}`)),
      ),
    );
    this.container.append(
      el(
        "section",
        { class: "survey", "aria-busy": String(sending) },
        el("h2", {}, this.t("survey_title")),
        el("p", { class: "survey-hint" }, this.t(this.expanded ? "survey_more_help" : "survey_tap")),
        el(
          "div",
          {
            class: this.error && this.score === null ? "scores missing" : "scores",
            role: "group",
            "aria-label": this.t("survey_title"),
          },
          scores,
        ),
        sending ? el("p", { class: "survey-sending", role: "status" }, this.t("sending")) : null,
        this.error ? el("p", { class: "survey-error", role: "alert", tabindex: "-1" }, this.error) : null,
        this.questionnaire(lang),
      ),
    );
    if (this.revealError) {
      this.revealError = false;
      const error = this.container.querySelector(".survey-error");
      if (error) {
        // the scores sit just above the error: both in view, the error read out
        error.scrollIntoView({ block: "center", behavior: "auto" });
        error.focus({ preventScroll: true });
      }
    }
  }
}
