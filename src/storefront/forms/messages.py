"""User-facing strings of the form endpoint, in Italian and English.

The site's ``language`` picks the table. Strings are ``str.format`` templates; the values put into
them come from the owner's config (field labels, form titles) or from the endpoint itself, never
from a visitor's submission, so an error message can never echo a visitor's input. Pure data.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_IT: dict[str, str] = {
    "required": "{label}: questo campo è obbligatorio.",
    "too_long": "{label}: al massimo {max} caratteri (ne hai scritti {length}).",
    "email": "{label}: scrivi un indirizzo e-mail come nome@esempio.it.",
    "tel": "{label}: scrivi un numero di telefono, per esempio +39 055 123 4567.",
    "number": "{label}: scrivi un numero intero, per esempio 2.",
    "number_min": "{label}: il numero più piccolo accettato è {min}.",
    "number_max": "{label}: il numero più grande accettato è {max}.",
    "choice": "{label}: scegli uno dei valori proposti.",
    "control": "{label}: contiene caratteri non ammessi.",
    "consent": "{label}: per inviare il modulo serve il tuo consenso.",
    "one_of": "Compila almeno uno di questi campi: {labels}.",
    "too_fast": "Hai inviato il modulo molto in fretta. Attendi qualche secondo e premi di nuovo "
    "«Invia».",
    "token": "Il modulo è scaduto o incompleto. Premi di nuovo «Invia».",
    "rate_limited": "Troppi invii da questa connessione. Riprova fra {minutes} minuti.",
    "origin": "Questo modulo si può inviare solo dal sito {site}.",
    "too_large": "I dati inviati sono troppo lunghi (al massimo {kib} KiB).",
    "method": "A questo indirizzo si possono solo inviare moduli.",
    "not_found": "Questo modulo non esiste.",
    "bad_request": "I dati inviati non sono leggibili. Ricarica la pagina e riprova.",
    "unavailable": "Non è stato possibile salvare il messaggio. Riprova fra qualche minuto.",
    "internal": "Si è verificato un errore. Riprova fra qualche minuto.",
    "error_title": "Il modulo non è stato inviato",
    "error_intro": "Ci sono alcuni problemi da correggere:",
    "back": "Torna al modulo",
    "home": "Torna al sito",
    "confirm_title": "Conferma l'invio",
    "confirm_intro": "Per proteggerci dallo spam ti chiediamo una conferma. Controlla i dati, "
    "attendi qualche secondo e premi «Invia».",
    "confirm_again": "Hai premuto «Invia» molto in fretta: attendi qualche secondo e premilo "
    "di nuovo.",
    "confirm_button": "Invia",
    "yes": "sì",
    "no": "no",
    "mail_subject": "{title}: nuovo invio da {sender}",
    "mail_intro": "Nuovo invio dal modulo «{title}» del sito {site}.",
    "mail_received": "Ricevuto il {date} (n. {id}).",
    "mail_consent": "Consenso privacy: sì, versione «{version}».",
    "mail_consent_text": "Testo del consenso: {text}",
    "mail_reply": "Per rispondere basta rispondere a questa e-mail.",
    "nl_subject": "Conferma l'iscrizione a «{list}»",
    "nl_hello": "Ciao,",
    "nl_asked": "qualcuno, speriamo tu, ha chiesto di ricevere «{list}» di {site} a questo "
    "indirizzo e-mail.",
    "nl_open": "Per confermare apri questo link e premi il pulsante «Confermo»:",
    "nl_until": "Il link vale fino al {date}.",
    "nl_ignore": "Se non sei stato tu, ignora questa e-mail: senza conferma non riceverai nulla "
    "e il tuo indirizzo sarà cancellato.",
    "confirm_sub_title": "Conferma l'iscrizione",
    "confirm_sub_text": "Premi il pulsante per confermare che vuoi ricevere «{list}» a questo "
    "indirizzo.",
    "confirm_sub_button": "Confermo",
    "check_mail_title": "Controlla la posta",
    "check_mail_text": "Ti abbiamo scritto un'e-mail: apri il link che contiene per confermare "
    "l'iscrizione. Se non la trovi, guarda nella posta indesiderata.",
    "link_expired": "Questo link di conferma è scaduto o non vale più. Iscriviti di nuovo per "
    "riceverne uno nuovo.",
    "link_invalid": "Questo link non è valido. Controlla di averlo copiato per intero.",
    "unsub_title": "Cancellazione dalla lista",
    "unsub_text": "Premi il pulsante per non ricevere più «{list}».",
    "unsub_button": "Cancellami",
    "unsub_done_title": "Sei stato cancellato",
    "unsub_done": "Non riceverai più «{list}». Se cambi idea puoi iscriverti di nuovo dal sito.",
    "unsub_gone": "Questo link per cancellarti non è più valido: l'indirizzo a cui era stato "
    "mandato è stato cancellato dai nostri archivi. Se ricevi ancora «{list}», usa il link per "
    "cancellarti dell'ultima e-mail che hai ricevuto, oppure scrivi a {mailto}.",
}

_EN: dict[str, str] = {
    "required": "{label}: please fill in this field.",
    "too_long": "{label}: at most {max} characters (you wrote {length}).",
    "email": "{label}: enter an e-mail address such as name@example.com.",
    "tel": "{label}: enter a phone number, for example +39 055 123 4567.",
    "number": "{label}: enter a whole number, for example 2.",
    "number_min": "{label}: the smallest accepted number is {min}.",
    "number_max": "{label}: the largest accepted number is {max}.",
    "choice": "{label}: choose one of the offered values.",
    "control": "{label}: contains characters that are not allowed.",
    "consent": "{label}: your consent is needed to send this form.",
    "one_of": "Fill in at least one of these fields: {labels}.",
    "too_fast": "The form was sent very quickly. Wait a few seconds and press “Send” again.",
    "token": "The form has expired or is incomplete. Press “Send” again.",
    "rate_limited": "Too many submissions from this connection. Try again in {minutes} minutes.",
    "origin": "This form can only be sent from the site {site}.",
    "too_large": "The data sent is too long (at most {kib} KiB).",
    "method": "This address only accepts form submissions.",
    "not_found": "There is no such form.",
    "bad_request": "The data sent could not be read. Reload the page and try again.",
    "unavailable": "The message could not be saved. Please try again in a few minutes.",
    "internal": "Something went wrong. Please try again in a few minutes.",
    "error_title": "The form was not sent",
    "error_intro": "A few things need fixing:",
    "back": "Back to the form",
    "home": "Back to the site",
    "confirm_title": "Confirm sending",
    "confirm_intro": "To keep spam out we ask you to confirm. Check your details, wait a few "
    "seconds and press “Send”.",
    "confirm_again": "You pressed “Send” very quickly: wait a few seconds and press it again.",
    "confirm_button": "Send",
    "yes": "yes",
    "no": "no",
    "mail_subject": "{title}: new submission from {sender}",
    "mail_intro": "New submission from the form “{title}” on {site}.",
    "mail_received": "Received on {date} (no. {id}).",
    "mail_consent": "Privacy consent: yes, version “{version}”.",
    "mail_consent_text": "Consent text: {text}",
    "mail_reply": "To answer, just reply to this e-mail.",
    "nl_subject": "Confirm your subscription to “{list}”",
    "nl_hello": "Hello,",
    "nl_asked": "someone, hopefully you, asked to receive “{list}” from {site} at this e-mail "
    "address.",
    "nl_open": "To confirm, open this link and press the “Confirm” button:",
    "nl_until": "The link is valid until {date}.",
    "nl_ignore": "If this was not you, ignore this e-mail: without a confirmation you will "
    "receive nothing and your address will be deleted.",
    "confirm_sub_title": "Confirm your subscription",
    "confirm_sub_text": "Press the button to confirm that you want to receive “{list}” at this "
    "address.",
    "confirm_sub_button": "Confirm",
    "check_mail_title": "Check your mailbox",
    "check_mail_text": "We sent you an e-mail: open the link in it to confirm your "
    "subscription. If you cannot find it, look in your spam folder.",
    "link_expired": "This confirmation link has expired or is no longer valid. Sign up again "
    "to get a new one.",
    "link_invalid": "This link is not valid. Check that you copied all of it.",
    "unsub_title": "Unsubscribe",
    "unsub_text": "Press the button to stop receiving “{list}”.",
    "unsub_button": "Unsubscribe me",
    "unsub_done_title": "You are unsubscribed",
    "unsub_done": "You will not receive “{list}” any more. If you change your mind, you can "
    "sign up again on the site.",
    "unsub_gone": "This unsubscribe link is no longer valid: the address it was sent to was "
    "erased from our records. If you still receive “{list}”, use the unsubscribe link of the "
    "latest one you received, or write to {mailto}.",
}

_TABLES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"it": MappingProxyType(_IT), "en": MappingProxyType(_EN)}
)


class Messages:
    """The strings of one language; ``messages("required", label="Email")`` formats one."""

    def __init__(self, language: str) -> None:
        self.language = language if language in _TABLES else "it"
        self._table = _TABLES[self.language]

    def __call__(self, key: str, **values: object) -> str:
        return self._table[key].format(**values)


def language_keys(language: str) -> frozenset[str]:
    """The message keys defined for ``language`` (tests check both tables match)."""
    return frozenset(_TABLES[language])
