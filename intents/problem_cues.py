"""The cues :mod:`intents.problems` weighs: patterns of how problems are told, by kind.

Patterns run on the message lower-cased with straight apostrophes; ``cased`` ones (shouting) run
on its own letters, and only in a message with lower-case letters too (one typed all in capitals
is caps lock, not shouting). A strong cue weighs 2 (enough alone), a weak one 1 (needs another);
a status contradicted weighs 3, more than any single cue of another kind. A ``factual`` cue
tells of something that happened, so a supposition or a general question before it in its
sentence ("what if…", "do you replace…") voids it; threats count however they are put.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

STRONG, WEAK, STRUCTURAL = 2, 1, 3
ALL_CAPS_MIN = 3  # letters of a shouted word
# Capitals that are names, not shouting.
ACRONYMS = (
    "UPS|DHL|DPD|USPS|EVRI|VAT|FAQ|PIN|SMS|USA|GBP|USD|EUR|ATM|SKU|PDF|URL|CVV|CVC|IBAN|BACS|"
    "ETA|LED|USB|HDMI|RAM|SSD|XXL|XXS|XXXL|NHS|APP|IOS|TNT|GLS|POS|BNPL|PAYPAL|VISA|AMEX|EMEA|"
    "UK|EU|OK"
)


class ProblemKind(StrEnum):
    """What kind of problem a message reports."""

    CONTRADICTION = "contradiction"  # a status says one thing, the customer sees another
    REPEAT_CONTACT = "repeat_contact"  # asked before, or waited long, and still nothing
    ANGER = "anger"  # ultimatum, threat, insult, shouting
    FAILURE = "failure"  # the thing itself fails, or harm was done (charged twice, damaged)


@dataclass(frozen=True)
class Cue:
    """One way a kind of problem is told, with the weight of its evidence."""

    pattern: re.Pattern[str]
    weight: int = STRONG
    factual: bool = True
    cased: bool = False


def _cue(
    *alternatives: str, weight: int = STRONG, factual: bool = True, cased: bool = False
) -> Cue:
    """A cue matching any of ``alternatives``."""
    return Cue(re.compile("|".join(alternatives)), weight, factual, cased)


# A status or a promise ...
_CLAIM = (
    r"(?:says?|said|saying|shows?|showed|showing|shown|states?|stated|claims?|claimed|"
    r"tracking|tracker|marked|supposedly|apparently|according to|confirm(?:ed|ation)|"
    r"status|notification|e-?mail(?:s|ed)?|texted me|told me|supposed to|meant to|promised)"
)
# ... turned by a contrast ...
_CONTRAST = r"(?:\b(?:but|yet|though|although|however|whereas|and|still)\b|[,;.]|\s-)"
_BUT = r"\b(?:but|yet|though|although|however|and still)\b"  # a contrast said outright
# A status told without saying who claims it ("it was delivered but…"): only with a "but".
_STATUS = r"(?:delivered|dispatched|shipped|left (?:with|in|at|on)|handed (?:to|over))"
# ... into what is not there.
_ABSENCE = (
    r"(?:nothing|nobody|no ?one|nowhere|empty|never|missing|"
    r"no (?:sign|parcel|package|box|order|delivery|item|money|refund|email|trace|record)|"
    r"not (?:even )?(?:here|there|arrived|received|come|came|delivered|got|had|seen|been|"
    r"anywhere|mine|my \w+|(?:a|one|a single) (?:thing|sign|trace|parcel|penny))|"
    r"can'?t (?:find|see)|"
    r"(?:is|was|has|have|had|did|does|are|were|could|do)n'?t(?! (?:know|mind|understand|"
    r"need|want|care))|(?:has|have|did|does|is|was) not)"
)
_ORDINAL = (
    r"(?:second|third|fourth|fifth|sixth|seventh|2nd|3rd|4th|5th|6th|7th|\d+th|umpteenth|nth|"
    r"hundredth|millionth)"
)
_CONTACTED = (
    r"(?:asked|asking|e-?mailed|e-?mailing|called|calling|rang|phoned|messaged|messaging|"
    r"written|wrote|contacted|contacting|chased|chasing|told|texted|complained|reported|"
    r"raised|explained)"
)
_REPEATED = (
    r"(?:twice|two times|three times|\d+ times|(?:several|multiple|many|so many|numerous|"
    r"countless|a few|a couple of|loads of|lots of) times|again|already|repeatedly|"
    r"over and over)"
)
_DURATION = (
    r"(?:(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|several|a few|"
    r"a couple of|many|over an?|almost an?|nearly an?|more than an?) (?:full )?"
    r"(?:days?|weeks?|wks?|months?|hours?|hrs?|business days|working days)|ages|forever|"
    r"for (?:days|weeks|months)|"
    r"so long)"
)
_STILL = (
    r"still (?:nothing|no\b|not\b|waiting|nobody|no ?one|empty|missing|"
    r"(?:have|has|did|do|does|is|are|was|ca)n'?t)"
)
_NOT_YET = (
    r"(?:nothing|no (?:sign|reply|response|answer|word|update|news|parcel|package|refund|"
    r"delivery|money|contact)|not (?:heard|arrived|received|here|come|delivered)|"
    r"(?:has|have|had|did)n'?t (?:arrived|received|got|gotten|come|heard|had|seen|shown|"
    r"turned up|been (?:delivered|refunded|sent|dispatched|shipped))|never (?:arrived|came|"
    r"turned up|showed up|got|received))"
)
_AWFUL = (
    r"(?:terrible|awful|horrible|horrendous|atrocious|poor|rubbish|worst|shocking|bad|dreadful|"
    r"abysmal|lousy|appall?ing|a disgrace|a joke|useless|pathetic)"
)
_SERVICE = (
    r"(?:service|company|experience|communication|support|shop|website|quality|staff|courier|"
    r"driver|packaging)"
)
_CAPS = rf"(?!(?:{ACRONYMS})\b)[A-Z]{{{ALL_CAPS_MIN},}}\b"
_NEGATED = r"(?<!not )(?<!no )(?<!n't )(?<!nt )(?<!never )"

CUES: dict[ProblemKind, tuple[Cue, ...]] = {
    ProblemKind.CONTRADICTION: (
        _cue(
            rf"\b{_CLAIM}\b[^?\n]{{0,80}}?{_CONTRAST}[^?\n]{{0,50}}?\b{_ABSENCE}",
            rf"\b{_ABSENCE}[^?\n]{{0,50}}?{_CONTRAST}[^?\n]{{0,30}}?\b{_CLAIM}\b",
            rf"\b{_STATUS}\b[^?\n]{{0,60}}?{_BUT}[^?\n]{{0,50}}?\b{_ABSENCE}",
            weight=STRUCTURAL,
        ),
    ),
    ProblemKind.REPEAT_CONTACT: (
        _cue(
            rf"\b{_ORDINAL} time\b"
            r"(?![^.?!]{0,20}\b(?:order|buy|bought|shop|purchas|wear|tr[yi]))"
        ),
        _cue(
            rf"\b{_CONTACTED}\b[^.?!]{{0,25}}?\b{_REPEATED}\b",
            rf"\b{_REPEATED}\b[^.?!]{{0,10}}?\b{_CONTACTED}\b",
        ),
        _cue(
            rf"\b{_DURATION}\b[^?]{{0,60}}?\b{_NOT_YET}",
            rf"\b{_NOT_YET}[^?]{{0,40}}?\b{_DURATION}\b",
        ),
        _cue(
            rf"\bwaiting\b[^.?!]{{0,15}}?\b{_DURATION}\b",
            rf"\b{_CONTACTED}\b[^.?!]{{0,25}}?\b{_DURATION}\b",
        ),
        # "still hasn't come", "taking forever": late, a problem with one more cue
        _cue(rf"\b{_STILL}", weight=WEAK),
        _cue(r"\b(?:taking|takes|taken|took) (?:so long|forever|ages)\b", weight=WEAK),
        _cue(
            r"\bagain\s*[!?]{2,}",
            r"\b(?:happened|happening|happens|same (?:thing|problem|issue)) again\b",
            r"\b(?:not|this) again\b",
        ),
        _cue(
            r"\b(?:no ?one|nobody|no body)\b[^.?!]{0,20}?\b(?:repl|answer|respond|got back|"
            r"get back|gets back|called back|call back|came back|contact)",
            r"\b(?:never|not|haven'?t|have not|hasn'?t) (?:heard back|heard anything|"
            r"got (?:a |any )?(?:reply|response|answer|call ?back)|replied|answered|responded|"
            r"got back)",
            r"\b(?:ignoring|ignored|ignore) (?:me|my)\b",
        ),
    ),
    ProblemKind.ANGER: (
        _cue(  # ultimatums
            r"\b(?:last|final) time (?:i|we|i'?ll|i will|i'?m|ever)\b[^.?!]{0,15}"
            r"\b(?:order|buy|shop|use|purchase|deal)(?:ing)?\b",
            r"\b(?:this is|that'?s|thats|definitely|absolutely) (?:the|my) (?:last|final) "
            r"(?:time|order|straw)\b",
            r"\b(?:last|final) straw\b",
            r"\bnever again\b",
            r"\bnever (?:order|buy|shop|us|purchas|recommend|deal)\w*\b[^.?!]{0,25}"
            r"\b(?:again|from (?:you|u|this|here|your)|here|with (?:you|u))\b",
            r"\b(?:won'?t|will not|wont) be (?:ordering|buying|shopping|using|back|recommending)\b",
            r"\b(?:tak(?:e|ing)|spend(?:ing)?) my (?:business|money|custom) elsewhere\b",
            r"\b(?:go|going|shop|shopping) (?:somewhere )?elsewhere\b",
            r"\b(?:leav|writ|post|giv)(?:e|ing) (?:you )?(?:a )?(?:bad|terrible|negative|1|one|"
            r"1-star|one-star|zero)\b[^.?!]{0,10}\breview",
            r"\bwarn (?:everyone|others|people)\b",
            factual=False,
        ),
        _cue(  # threats of a dispute
            r"\b(?:trading standards|ombudsman|charge ?backs?|small claims|lawyers?|solicitors?|"
            r"legal action|sue|suing|(?:take|taking) (?:you|u) to court|report(?:ing)? "
            r"(?:you|u|this|your)|consumer rights|citizens advice|better business bureau|"
            r"watchdog)\b",
            r"\bdisput(?:e|ing)\b[^.?!]{0,25}\b(?:bank|card|paypal|credit card)",
            factual=False,
        ),
        _cue(  # insults and outrage
            r"\b(?:ridiculous|disgrace(?:ful)?|scam(?:s|mers?|med|my)?|rip-? ?off|ripped off|"
            r"useless|pathetic|appall?ing|unacceptable|incompeten(?:t|ce)|disgust(?:ing|ed)|"
            r"outrage(?:ous|d)|shambles|shambolic|clowns|fraud(?:ulent|sters?)?|thieves|thief|"
            r"liars?|furious|livid|fuming|sick (?:and tired )?of|fed up|had enough|pissed|"
            r"beyond a joke|wtf|ffs|fuck\w*|f\*+\w*|shit\w*|crap|bullshit|"
            r"screw (?:you|u|this)|are you (?:kidding|joking|serious)|"
            r"how hard (?:is it|can it be))\b",
            r"\b(?:is|it'?s|its|this|that'?s|thats|what|are|you'?re|youre) (?:such |an? )?"
            r"(?:absolute |complete |total |bloody |actual )?joke\b",
            rf"\b{_AWFUL} (?:\w+ )?{_SERVICE}\b",
            rf"\b{_SERVICE}\b[^.?!]{{0,15}}\b(?:is|was|are|were|has been)\s+(?:\w+\s+)?"
            rf"(?:{_AWFUL}|rude)\b",
            r"\b(?:so|very|really|extremely|absolutely|totally|beyond|getting) (?:annoyed|"
            r"frustrated|angry|upset|disappointed|unhappy|fed up)\b",
            factual=False,
        ),
        _cue(  # on their own, a grumble
            r"\b(?:terrible|awful|horrible|worst|shocking|unbelievable|annoy(?:ed|ing)|"
            r"frustrat(?:ed|ing)|angry|upset|disappointed|unhappy|not happy|not impressed|"
            r"seriously|honestly|bloody|damn|hell|wth|come on)\b",
            weight=WEAK,
            factual=False,
        ),
        _cue(r"!{3,}|\?!|!\?", weight=WEAK, factual=False),
        _cue(rf"\b{_CAPS}.{{0,60}}?\b{_CAPS}", factual=False, cased=True),
        _cue(rf"\b{_CAPS}", weight=WEAK, factual=False, cased=True),
    ),
    ProblemKind.FAILURE: (
        _cue(r"\bkeeps? (?:on )?\w+ing\b"),
        _cue(  # an attempt that fails
            r"\b(?:won'?t|wont|will not|doesn'?t|does not|didn'?t|did not|isn'?t|is not|"
            r"aren'?t|are not|wasn'?t|wouldn'?t|can'?t|cannot|couldn'?t|unable to|"
            r"fail(?:s|ed)? to)\s+(?:\w+\s+){0,3}?(?:work(?:s|ing|ed)?|go(?:ing)? (?:through|thru)|"
            r"accept(?:ed|ing)?|appl(?:y|ied|ying)|load(?:ing|ed)?|let me|valid|"
            r"recogni[sz]ed?|register(?:ed|ing)?|verif(?:y|ied)|scan|redeem(?:ed)?|log ?in|"
            r"sign ?in|logging in|signing in|check ?out|complete|place (?:my |the |an )?order|"
            r"turn(?:ing)? on|switch(?:ing)? on|charg(?:e|ing)|connect(?:ing)?)\b",
            r"\b(?:declined|declining|rejected|rejecting|bounced|failed|failing|fails|failure|"
            r"errors?|glitch(?:ing|y)?|buggy|crash(?:ed|es|ing)?|froze|freezes|freezing|"
            r"stopped working|not working|stuck on|invalid|not valid|says expired|timed out|"
            r"unsuccessful|rejects?|forgot to (?:put|send|include|pack)|"
            r"went wrong|gone wrong|malfunction\w*|faulty|defective|dead on arrival)\b",
            r"\b(?:card|payment|transaction)s? (?:was |is |got |has been |keeps being )?"
            r"(?:refused|blocked|denied)\b",
        ),
        _cue(  # money taken twice
            r"\b(?:charged|billed|debited|taken|took|paid|deducted|withdrawn|left|came out|"
            r"went out|gone out|payments?|charges?)\b[^.?!]{0,30}?\b(?:twice|two times|"
            r"2 times|double|2x|x2|three times|3 times)\b",
            r"\b(?:charged|billed|debited) (?:\w+ ){0,2}again\b",
            r"\bdouble[- ]?charg\w*|\bcharged double\b",
            r"\bduplicate (?:charge|payment|transaction|debit)s?\b",
            r"(?<!into )(?<!in )\b(?:two|2|multiple) (?:identical )?(?:charges|transactions|"
            r"debits)\b",
            r"\b(?:two|2) payments (?:taken|went out|came out|left|on my|showing|"
            r"for (?:one|the same|1))",
        ),
        _cue(  # someone else's, or the wrong thing
            r"\bsome ?(?:one|body) else'?s (?:order|parcel|package|items?|stuff|things|shoes|"
            r"clothes|box|delivery)\b",
            r"\bnot my (?:order|parcel|package|items?|stuff|things|box)\b",
            r"\b(?:isn'?t|wasn'?t|aren'?t|weren'?t|not) (?:mine|ours|what i (?:ordered|"
            r"asked for|bought|paid for))\b",
            r"\b(?:sent|send|got|received?|recieved?|delivered|came|arrived|shipped|gave|given|"
            r"is|was|are|were|it'?s|its|they'?re)\s+(?:me\s+|us\s+)?(?:in\s+|to\s+)?"
            r"(?:the\s+|a\s+|an\s+)?wrong\b",
            r"\bwrong (?:\w+ ){0,2}(?:was |were |got |been )?(?:sent|delivered|arrived|received|"
            r"came|in (?:the|my) (?:box|parcel|package|bag))\b",
            r"\b(?:sent|got|received?|recieved?|came|arrived|delivered|gave)\b"
            r"(?:(?!\b(?:can|could|swap|exchange|change|want|like)\b)[^.?!]){0,40}"
            r"\binstead of\b",
        ),
        _cue(  # missing, damaged, lost
            r"\b(?:is|are|was|were|went|go|gone|goes|been)\s+missing\b|'s missing\b",
            r"\bmissing (?:from|in|out of|items?|parts?|pieces?|bits?|buttons?)\b",
            r"\bonly (?:\d+|one|two|three|four) (?:of|out of) (?:the |my )?(?:\d+|two|three|four|"
            r"five)\b",
            r"\b(?:a|an) (?:rip|tear|hole|crack|dent|stain) in\b",
            rf"{_NEGATED}\b(?:damaged|smashed|broken|cracked|shattered|torn|ripped(?! off)|"
            r"dented|crushed|stained|leaking|leaked|scratched|snapped|ruined|soaked|mouldy|"
            r"moldy|in pieces)\b",
            r"\b(?:lost|stolen) (?:in (?:the )?(?:post|mail|transit)|by (?:the )?"
            r"(?:courier|driver))\b",
            r"\b(?:was|been|got|is|were) (?:lost|stolen)\b",
            r"\b(?:courier|driver|they|you|post office)(?: have| has)? lost (?:it|my|the)\b",
        ),
    ),
}

# Words before a cue in its sentence that make it a supposition or a general question.
HYPOTHETICAL = re.compile(
    r"\b(?:if(?! (?:you|u) (?:could|can|would|don'?t mind)| possible)|in case|suppose|supposing|"
    r"what happens|whether|unless|policy|warranty|guarantee|(?<!why )(?:do|does) (?:you|u|your|the)"
    r"(?! know| have any idea))\b"
)
SENTENCE_END = re.compile(r"[.?!;\n]+")
# A nudge is made of these words only.
NUDGE_WORD = re.compile(
    r"h+e+l+o+w*|h+a+l+o+|hi+|hiya|he+y+a?|yo+|oi+|ping|any ?(?:one|body)|any1|some ?(?:one|body)|"
    r"is|are|r|you|u|ya|there|still|here|excuse|me|u+m+|u+h+m*|h+m+|e+r+m+|answer|reply|"
    r"waiting|please|pls|plz|help|actually|really|even|out|at|all|a"
)
NUDGE_GREETING = re.compile(r"h+e+l+o+w*|h+a+l+o+|hi+|hiya|he+y+a?|yo+|oi+")
NUDGE_ATTENTION = re.compile(
    r"\b(?:any ?(?:one|body)|any1|some ?(?:one|body)|(?:you|u|ya) (?:still )?there|still there|"
    r"still waiting|answer me|reply|excuse me|ping)\b"
)
