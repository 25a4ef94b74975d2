"""Decide what a sentence reports: worked, did not work, barrier, enabler, next step, or none.

Pure: the cue lexicon (word-boundary regexes over the lower-cased sentence), the section rules
of the PDSA and reflection templates, prototype scoring on similarity matrices, and the
decision that combines them. The model-backed classifier lives in :mod:`synth.outcomes`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CUES",
    "SECTION_RULES",
    "Cue",
    "Decision",
    "DecisionParams",
    "OutcomeLabel",
    "SectionRule",
    "cue_scores",
    "decide",
    "prototype_scores",
    "section_of",
    "strip_heading",
]


class OutcomeLabel(enum.StrEnum):
    """What a sentence reports (a sentence reporting none of these gets no label)."""

    WORKED = "worked"
    DID_NOT_WORK = "did_not_work"
    BARRIER = "barrier"
    ENABLER = "enabler"
    NEXT_STEP = "next_step"


ALL_LABELS = frozenset(OutcomeLabel)


@dataclass(frozen=True, slots=True)
class Cue:
    """A phrase pattern that points to ``label`` with ``weight`` (1.0 strong, 0.5 weak)."""

    label: OutcomeLabel
    pattern: re.Pattern[str]
    weight: float


def _cues(label: OutcomeLabel, weight: float, *patterns: str) -> list[Cue]:
    return [Cue(label, re.compile(p), weight) for p in patterns]


_W, _D, _B, _E, _N = (
    OutcomeLabel.WORKED,
    OutcomeLabel.DID_NOT_WORK,
    OutcomeLabel.BARRIER,
    OutcomeLabel.ENABLER,
    OutcomeLabel.NEXT_STEP,
)
_NEG = (
    r"(?:didn't|did not|doesn't|does not|wasn't|was not|weren't|were not"
    r"|hasn't|has not|haven't|have not|couldn't|could not)"
)
_IMPERATIVE = (
    "adopt|adapt|abandon|keep|continue|test|try|repeat|add|ask|train|share|introduce|extend"
    "|move|make|drop|start|stop|agree|plan"
)
_UNDER_WAY = (
    "testing|training|piloting|trialling|introducing|looking at|moving|writing|putting|adding"
    "|developing|working on"
)

#: The cue lexicon: general English of improvement reports, matched on lower-cased sentences.
CUES: tuple[Cue, ...] = (
    *_cues(
        _W,
        1.0,
        r"\b(?:it|this|that|which) worked\b",
        r"\bworked (?:really |very |surprisingly )?well\b",
        r"\b(?:was|were|has been|proved) (?:a )?success(?:ful)?\b",
        r"\b(?:improved|improvement in|improvements in)\b",
        r"\b(?:now|has become|became|is now) (?:routine|standard|business as usual)\b",
        r"\b(?:saved|saves|saving) (?:about |around |us |each )?\w*\s?(?:minutes?|hours?|time)",
        r"\b(?:appreciated|well received|popular|welcomed)\b",
        r"\bpositive (?:feedback|response)\b",
        r"\b(?:halved|doubled)\b",
        r"\b(?:fell|dropped|reduced|came down|went down) from\b",
        r"\b(?:rose|increased|went up|climbed) from\b",
    ),
    *_cues(
        _W,
        0.5,
        r"\b(?:reduced|fewer|increased|rose|shorter|faster|quicker)\b",
        r"\b(?:liked|valued|felt (?:more|less|better|safer))\b",
        r"\b\d+(?:\.\d+)?\s?%",
        r"\b\d+ (?:out )?of (?:the )?\d+\b",
        r"\bevery (?:day|week|month|shift|time)\b",
    ),
    *_cues(
        _D,
        1.0,
        rf"\b{_NEG} (?:work|help|change|improve|make (?:a|any) difference|reduce|happen|stick)",
        r"\bfailed to\b",
        r"\bno (?:change|difference|improvement|signal|effect|shift)\b",
        r"\b(?:dropped|abandoned|withdrew|withdrawn|scrapped|stopped) (?:it|the|them)\b",
        r"\b(?:was|were|been) (?:dropped|abandoned|withdrawn|scrapped)\b",
        r"\bso we (?:stopped|dropped|gave up)\b",
        r"\b(?:worse|worsened|deteriorated|collapsed|fell apart|fizzled)\b",
        r"\bnot sustained\b",
        r"\b(?:poorly|badly) (?:attended|used|received)\b",
        r"\b(?:lower|less|fewer|slower) than (?:we )?(?:expected|hoped|predicted)\b",
        r"\bprediction was wrong\b",
        r"\b(?:hardly|nobody|no one) (?:used|came|read|filled|took)\b",
        r"\bwe tried\b.*\bbut\b",
        r"\bnever (?:reached|happened|worked|took off|caught on|got going)\b",
        r"\b(?:not|wasn't|weren't|rarely|seldom) used\b",
        r"\b(?:has|have)(?:n't| not) (?:moved|changed|improved|shifted)\b",
        r"\b(?:could|did)(?:n't| not) (?:link|show|tell|prove)\b",
    ),
    *_cues(
        _D,
        0.5,
        r"\bonly (?:a|one|two|three|\d+|half|a third|a quarter|a few|a handful)\b",
        r"\b(?:unfortunately|disappointing|disappointed)\b",
        r"\bdidn't count\b|\bdoesn't count\b",
        r"\bwas lost\b|\bwere lost\b",
    ),
    *_cues(
        _B,
        1.0,
        r"\bbarriers?\b",
        r"\bbecause (?:nobody|no one|there (?:was|is|were|are) no|we (?:had|have) no)\b",
        r"\black of\b",
        r"\bnot enough (?:time|staff|capacity|people|space|money)\b",
        r"\b(?:short[- ]staffed|staff shortages?|staffing)\b",
        r"\bno (?:protected )?time\b",
        r"\b(?:struggled|struggle|struggling) (?:to|with)\b",
        r"\b(?:hard|harder|difficult) to\b",
        r"\bgot in the way\b|\bheld (?:us|it|things) (?:back|up)\b",
        r"\b(?:can't|cannot|could not|couldn't) (?:cover|spare|find|get|answer|reach)\b",
        r"\bnever (?:been )?(?:shown|trained|told)\b",
        r"\b(?:reluctant|resistance|reluctance|sceptical|skeptical)\b",
        r"\b(?:workload|pressures?|capacity)\b",
        r"\bisn't perfect\b|\bnot perfect\b",
        r"\bonly works? (?:when|while|if)\b",
        r"\b(?:is|are|was|were) (?:missing|unavailable|off sick)\b",
        r"\bsickness\b",
    ),
    *_cues(
        _B,
        0.5,
        r"\b(?:because|since) (?:of )?\b",
        r"\bstill\b",
        r"\b(?:no|without) (?:one|access|training|cover)\b",
    ),
    *_cues(
        _E,
        1.0,
        r"\bmade it (?:easier|possible|work|happen)\b",
        r"\bthanks to\b",
        r"\bkey to\b|\bkey (?:factor|ingredient|enabler)\b",
        r"\b(?:support|backing|help) (?:of|from)\b",
        r"\bmade (?:a|the|all the) (?:big |real |huge )?difference\b",
        r"\bwhat (?:helped|made (?:it|this|the difference))\b",
        r"\bchampion(?:s|ed)?\b",
        r"\benabl(?:ed|er|ers|ing)\b",
        r"\b(?:crucial|essential|vital)\b",
        r"\bkept (?:it|us|the \w+|projects?) (?:going|visible|on track|alive)\b",
        r"\bhaving (?:a|an|the|one|our|their|same) .{0,80}\bmeant\b",
        r"\bwhat makes (?:it|this) (?:work|possible)\b",
        r"\bmattered\b|\bwas what made\b",
    ),
    *_cues(
        _E,
        0.5,
        r"\b(?:helped|helps|helpful)\b",
        r"\b(?:funded|funding|pays for|paid for|backfill)\b",
        r"\bprotected (?:time|day|days)\b",
    ),
    *_cues(
        _N,
        1.0,
        r"\bnext (?:we will|we'll|we plan|step|steps|cycle|pdsa|time)\b",
        r"\bwe (?:plan|intend|hope|aim|want|would like|'d like|need) to\b",
        r"\bwe(?:'re| are) (?:going to|planning|about to|now going)\b",
        r"\b(?:we|i|they|the \w+) will\b|\bwe'll\b",
        r"\bpdsa (?:cycle )?\d+ will\b",
        r"\b(?:roll(?:ing)? (?:it |this )?out|scale (?:it )?up|spread (?:it|this))\b",
        rf"^(?:{_IMPERATIVE})\b",
        r"\bgoing forward\b|\bin future\b|\bfrom next (?:week|month|year)\b",
        rf"\bwe(?:'re| are) (?:now )?(?:{_UNDER_WAY})\b",
        r"\b(?:i|we)(?:'ve| have) asked\b|\bi(?:'m| am) asking\b",
        r"\b(?:i|we)(?:'d| would) (?:like|love) to\b|\b(?:i|we) want (?:every|all|to)\b",
    ),
    *_cues(_N, 0.5, r"\bshould\b", r"\bwould (?:like|love) to\b"),
)


def cue_scores(sentence: str, cues: Sequence[Cue] = CUES) -> dict[OutcomeLabel, float]:
    """Return the summed weight of matching cues per label (labels with no match omitted).

    Example:
        >>> cue_scores("Next we will test it on nights.")[OutcomeLabel.NEXT_STEP]
        2.0
    """
    lowered = sentence.strip().lower()
    scores: dict[OutcomeLabel, float] = {}
    for cue in cues:
        if cue.pattern.search(lowered):
            scores[cue.label] = scores.get(cue.label, 0.0) + cue.weight
    return scores


@dataclass(frozen=True, slots=True)
class SectionRule:
    """What the sentences under a template heading may report.

    ``forced``: every sentence gets this label. ``allowed``: the labels it may get (empty:
    none). ``findings``: every sentence reports something, so it always gets a label.
    """

    allowed: frozenset[OutcomeLabel]
    forced: OutcomeLabel | None = None
    findings: bool = False


_FINDINGS = frozenset({_W, _D, _B, _E})
_NOTHING: frozenset[OutcomeLabel] = frozenset()

#: Rules for the headings :func:`synth.types.compose_body` writes (PDSA and reflection).
SECTION_RULES: Mapping[str, SectionRule] = {
    "plan": SectionRule(_NOTHING),
    "prediction": SectionRule(_NOTHING),
    "do": SectionRule(_NOTHING),
    "study": SectionRule(_FINDINGS, findings=True),
    "act": SectionRule(frozenset({_N}), forced=_N),
    "what": SectionRule(_NOTHING),
    "so_what": SectionRule(_FINDINGS),
    "now_what": SectionRule(frozenset({_N}), forced=_N),
}

_HEADING = re.compile(r"(Plan|Prediction|Do|Study|Act):\s|(What|So what|Now what)\?\s")


def section_of(paragraph: str) -> str | None:
    """Return the template section a paragraph opens with (``"study"``, ``"now_what"``…).

    Example:
        >>> section_of("Study: 12 of 20 were seen."), section_of("We met on Monday.")
        ('study', None)
    """
    match = _HEADING.match(paragraph)
    if match is None:
        return None
    return (match.group(1) or match.group(2)).lower().replace(" ", "_")


def strip_heading(sentence: str) -> str:
    """Drop a leading template heading ("Study: ", "Now what? ") from a sentence.

    Example:
        >>> strip_heading("Act: Keep it.")
        'Keep it.'
    """
    match = _HEADING.match(sentence)
    return sentence[match.end() :] if match else sentence


def prototype_scores(
    similarities: NDArray[np.float32],
    prototype_labels: Sequence[str],
    labels: Sequence[str],
    k: int,
) -> NDArray[np.float32]:
    """Score each sentence against each label: mean of its ``k`` most similar prototypes.

    Args:
        similarities: (sentences, prototypes) cosine similarities.
        prototype_labels: The label of each prototype column.
        labels: The labels to score, in the order of the output columns.
        k: How many nearest prototypes of a label are averaged.

    Returns:
        A (sentences, labels) array.
    """
    columns = np.asarray(prototype_labels)
    out = np.zeros((similarities.shape[0], len(labels)), dtype=np.float32)
    for j, label in enumerate(labels):
        block = similarities[:, columns == label]
        take = min(k, block.shape[1])
        if take == 0:
            out[:, j] = -1.0
            continue
        top = -np.partition(-block, take - 1, axis=1)[:, :take]
        out[:, j] = top.mean(axis=1)
    return out


@dataclass(frozen=True, slots=True)
class DecisionParams:
    """Thresholds of the decision (see ``OutcomeConfig``)."""

    method: str = "hybrid"
    min_similarity: float = 0.3
    margin: float = 0.05
    cue_bonus: float = 0.1
    min_words: int = 4


@dataclass(frozen=True, slots=True)
class Decision:
    """A label with a confidence in [0, 1] and what decided it (section, cue, prototype)."""

    label: OutcomeLabel
    confidence: float
    method: str


def _squash(value: float) -> float:
    return float(round(min(0.99, max(0.01, value)), 4))


def _by_cues(cues: Mapping[OutcomeLabel, float]) -> Decision | None:
    if not cues:
        return None
    ranked = sorted(cues.items(), key=lambda item: (-item[1], item[0]))
    label, best = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    return Decision(label, _squash(0.5 + 0.15 * best - 0.1 * runner_up), "cue")


def _by_prototypes(
    sims: Mapping[OutcomeLabel, float], none_sim: float, params: DecisionParams, *, findings: bool
) -> Decision | None:
    if not sims:
        return None
    label = max(sims, key=lambda key: (sims[key], key))
    best = sims[label]
    lead = best - none_sim
    if not findings and (best < params.min_similarity or lead < params.margin):
        return None
    return Decision(label, _squash(0.5 + 2.0 * lead), "prototype")


def decide(
    cues: Mapping[OutcomeLabel, float],
    sims: Mapping[OutcomeLabel, float],
    none_sim: float,
    rule: SectionRule | None,
    params: DecisionParams,
    words: int | None = None,
) -> Decision | None:
    """Label one sentence from its cue scores, prototype scores and template section.

    ``cues`` method: the strongest cue. ``prototypes``: the nearest label when it beats the
    ``none`` prototypes by ``margin`` and reaches ``min_similarity``. ``hybrid``: prototype
    scores plus ``cue_bonus`` per unit of cue weight; a label backed by a cue wins outright,
    otherwise the prototype rule applies. A section rule restricts or forces the label;
    a sentence of fewer than ``min_words`` ``words`` (a heading such as "Next steps.") gets none.

    Example:
        >>> decide({OutcomeLabel.BARRIER: 1.0}, {}, 0.0, None, DecisionParams("cues")).label
        <OutcomeLabel.BARRIER: 'barrier'>
    """
    rule = rule or SectionRule(ALL_LABELS)
    if words is not None and words < params.min_words:
        return None
    if rule.forced is not None:
        return Decision(rule.forced, 0.9, "section")
    cues = {k: v for k, v in cues.items() if k in rule.allowed}
    sims = {k: v for k, v in sims.items() if k in rule.allowed}
    if params.method == "cues":
        return _by_cues(cues)
    if params.method == "prototypes":
        return _by_prototypes(sims, none_sim, params, findings=rule.findings)
    combined = {k: v + params.cue_bonus * cues.get(k, 0.0) for k, v in sims.items()}
    if combined:
        label = max(combined, key=lambda key: (combined[key], key))
        if cues.get(label):
            lead = combined[label] - none_sim
            return Decision(label, _squash(0.6 + lead), "cue")
    return _by_prototypes(sims, none_sim, params, findings=rule.findings)
