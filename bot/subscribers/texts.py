"""What email subscribers read, in English and Italian: the mails and the small answer pages."""

from __future__ import annotations

from dataclasses import dataclass

_EN: dict[str, str] = {
    # the confirmation mail
    "confirm_subject": "Confirm your subscription: {page}",
    "confirm_body": (
        "Someone, hopefully you, asked to get the updates of {page} ({url}) by email at this "
        "address.\n\n"
        "To confirm, open this link within {hours} hours:\n{link}\n\n"
        "If it was not you, ignore this message: nothing more will be sent."
    ),
    # a statement
    "statement_subject": "[{page}] {name}: {status}",
    "statement_footer": (
        "Status page: {url}\n\n"
        "You get these updates because you subscribed on {page}.\n"
        "Unsubscribe: {link}"
    ),
    # answer pages: title | text
    "subscribed_title": "Check your inbox",
    "subscribed": (
        "If the address is valid, a message with a confirmation link is on its way. Open the "
        "link within {hours} hours to start getting updates."
    ),
    "confirmed_title": "Subscription confirmed",
    "confirmed": "You will get every update of this status page by email.",
    "already_confirmed": "Your subscription is already confirmed.",
    "expired_title": "Link expired or already used",
    "expired": "This link has expired or was already used. Subscribe again on the status page.",
    "unsubscribed_title": "Unsubscribed",
    "unsubscribed": "You will get no more updates by email.",
    "error_title": "Something is not right",
    "bad_address": "That does not look like an email address: {reason}.",
    "missing_email": "Enter your email address.",
    "missing_token": "This link is incomplete: open it again from the message.",
    "not_a_form": "Send the subscription form from the status page.",
    "too_large": "The request is too large.",
    "too_many": "Too many requests from your network; try again in a minute.",
    "unavailable": "The service is unavailable right now; try again in a moment.",
    "back": "Back to the status page",
}

_IT: dict[str, str] = {
    "confirm_subject": "Conferma l'iscrizione: {page}",
    "confirm_body": (
        "Qualcuno, probabilmente tu, ha chiesto di ricevere via email gli aggiornamenti di "
        "{page} ({url}) a questo indirizzo.\n\n"
        "Per confermare, apri questo link entro {hours} ore:\n{link}\n\n"
        "Se non sei stato tu, ignora questo messaggio: non riceverai altro."
    ),
    "statement_subject": "[{page}] {name}: {status}",
    "statement_footer": (
        "Pagina di stato: {url}\n\n"
        "Ricevi questi aggiornamenti perché ti sei iscritto su {page}.\n"
        "Annulla l'iscrizione: {link}"
    ),
    "subscribed_title": "Controlla la posta",
    "subscribed": (
        "Se l'indirizzo è valido, è in arrivo un messaggio con un link di conferma. Apri il "
        "link entro {hours} ore per iniziare a ricevere gli aggiornamenti."
    ),
    "confirmed_title": "Iscrizione confermata",
    "confirmed": "Riceverai via email ogni aggiornamento di questa pagina di stato.",
    "already_confirmed": "La tua iscrizione è già confermata.",
    "expired_title": "Link scaduto o già usato",
    "expired": (
        "Questo link è scaduto o è già stato usato. Iscriviti di nuovo dalla pagina di stato."
    ),
    "unsubscribed_title": "Iscrizione annullata",
    "unsubscribed": "Non riceverai più aggiornamenti via email.",
    "error_title": "Qualcosa non va",
    "bad_address": "Questo non sembra un indirizzo email: {reason}.",
    "missing_email": "Inserisci il tuo indirizzo email.",
    "missing_token": "Il link è incompleto: aprilo di nuovo dal messaggio.",
    "not_a_form": "Invia il modulo di iscrizione dalla pagina di stato.",
    "too_large": "La richiesta è troppo grande.",
    "too_many": "Troppe richieste dalla tua rete; riprova tra un minuto.",
    "unavailable": "Il servizio non è disponibile in questo momento; riprova tra poco.",
    "back": "Torna alla pagina di stato",
}

# Why an address is refused, in each language (the reasons of addresses.AddressError).
_REASONS: dict[str, dict[str, str]] = {
    "it": {
        "it is too long": "è troppo lungo",
        "it needs one @": "serve una sola @",
        "the part before @ is not valid": "la parte prima della @ non è valida",
        "the domain after @ is not valid": "il dominio dopo la @ non è valido",
    },
}

_STRINGS = {"en": _EN, "it": _IT}


@dataclass(frozen=True)
class MailWords:
    """The subscriber texts in one language (English where it has none of its own)."""

    language: str

    def __call__(self, key: str, **values: str) -> str:
        text = _STRINGS.get(self.language, _EN).get(key, _EN[key])
        return text.format(**values) if values else text

    def reason(self, reason: str) -> str:
        return _REASONS.get(self.language, {}).get(reason, reason)
