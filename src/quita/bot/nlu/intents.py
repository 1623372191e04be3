"""The closed set of debtor intents the dialog reacts to.

The labels are a contract with the dialog state machine and the data files
(``data/<split>/<label>.txt``), so they never change spelling.
"""

from __future__ import annotations

from enum import StrEnum


class Intent(StrEnum):
    CONFIRM_IDENTITY = "confirm_identity"
    DENY_IDENTITY = "deny_identity"
    ASK_DETAILS = "ask_details"
    REQUEST_BOLETO = "request_boleto"
    REQUEST_PIX = "request_pix"
    NEGOTIATE = "negotiate"
    ASK_DISCOUNT = "ask_discount"
    ALREADY_PAID = "already_paid"
    PROMISE_TO_PAY = "promise_to_pay"
    CANNOT_PAY = "cannot_pay"
    DISPUTE = "dispute"
    TALK_TO_HUMAN = "talk_to_human"
    OPT_OUT = "opt_out"
    COMPLAINT_LEGAL = "complaint_legal"
    DECEASED = "deceased"
    GREETING_OTHER = "greeting_other"


#: Intents where a miss is costly (legal exposure), so high-precision rules may override the model.
GUARDED_INTENTS: tuple[Intent, ...] = (Intent.OPT_OUT, Intent.DECEASED, Intent.COMPLAINT_LEGAL)
