import type { Lang } from '../../common/i18n.js';

/** The partner's rotation pages (ask, check your email, confirm, confirmed). */
export const ROTATION_TEXT = {
  en: {
    switchLabel: 'Language',
    otherLangName: 'Nederlands',
    otherLang: 'nl',
    problem: 'There is a problem',
    requestTitle: 'Ask for a new client secret',
    requestIntro:
      'Use this when a secret is about to expire, or when you want a fresh one. We email the technical contact of the credential a link to confirm; after our team approves, the new secret is delivered as before (a link by email and a code by SMS). Your current secret keeps working for a while after you have fetched the new one.',
    leakNotice: 'If you think a secret has leaked, contact us directly so we can revoke it at once.',
    clientIdHint: 'Starts with acc_ (Acceptance) or prd_ (Production). Never enter the client secret.',
    ask: 'Ask for a new secret',
    requestedTitle: 'Check your email',
    sameAnswer:
      'If this client_id belongs to an active credential, its technical contact has been emailed a link to confirm the request. After confirmation a reviewer approves it, and the new secret is delivered by email link and SMS code.',
    requestedMore: 'The link works for 24 hours. If no email arrives, check the client_id or contact us.',
    confirmTitle: 'Confirm the new client secret',
    confirmIntro:
      'Confirm that you asked for a new client secret. A reviewer of our team then approves it, and you receive the new secret by an email link and an SMS code.',
    confirmButton: 'Yes, I asked for a new secret',
    confirmIgnore: 'If you did not ask for this, close this page: nothing changes.',
    confirmedTitle: 'Request confirmed',
    confirmedBody:
      "A reviewer of our team will approve it. You then receive the new secret by an email link and an SMS code. Your current secret keeps working until some days after you have retrieved the new one; the new secret's page and email say until when.",
    invalidTitle: 'Link not valid',
    invalidHeading: 'This link does not work',
    askAgain: 'Ask again',
    errInvalidClientId: 'Enter the client_id, which starts with acc_ or prd_ followed by 20 characters.',
    errLinkInvalid: 'This confirmation link is not valid, was used already or has expired.',
  },
  nl: {
    switchLabel: 'Taal',
    otherLangName: 'English',
    otherLang: 'en',
    problem: 'Er is een probleem',
    requestTitle: 'Vraag een nieuw client secret aan',
    requestIntro:
      'Gebruik dit als een secret bijna verloopt, of als u een nieuw wilt. We mailen de technisch contactpersoon van de inloggegevens een link om te bevestigen; na goedkeuring door ons team wordt het nieuwe secret geleverd zoals eerder (een link per e-mail en een code per sms). Uw huidige secret blijft nog een tijd werken nadat u het nieuwe hebt opgehaald.',
    leakNotice: 'Denkt u dat een secret is uitgelekt? Neem dan direct contact met ons op, zodat we het meteen kunnen intrekken.',
    clientIdHint: 'Begint met acc_ (Acceptatie) of prd_ (Productie). Vul nooit het client secret in.',
    ask: 'Nieuw secret aanvragen',
    requestedTitle: 'Kijk in uw e-mail',
    sameAnswer:
      'Hoort deze client_id bij actieve inloggegevens, dan heeft de technisch contactpersoon een link gekregen om de aanvraag te bevestigen. Na bevestiging keurt een beoordelaar haar goed, en wordt het nieuwe secret geleverd via een link per e-mail en een code per sms.',
    requestedMore: 'De link werkt 24 uur. Komt er geen e-mail, controleer dan de client_id of neem contact met ons op.',
    confirmTitle: 'Bevestig het nieuwe client secret',
    confirmIntro:
      'Bevestig dat u een nieuw client secret hebt aangevraagd. Een beoordelaar van ons team keurt het daarna goed, en u ontvangt het nieuwe secret via een link per e-mail en een code per sms.',
    confirmButton: 'Ja, ik heb een nieuw secret aangevraagd',
    confirmIgnore: 'Hebt u dit niet aangevraagd? Sluit deze pagina dan: er verandert niets.',
    confirmedTitle: 'Aanvraag bevestigd',
    confirmedBody:
      'Een beoordelaar van ons team keurt haar goed. U ontvangt daarna het nieuwe secret via een link per e-mail en een code per sms. Uw huidige secret blijft werken tot enkele dagen nadat u het nieuwe hebt opgehaald; de pagina en de e-mail van het nieuwe secret noemen tot wanneer.',
    invalidTitle: 'Link niet geldig',
    invalidHeading: 'Deze link werkt niet',
    askAgain: 'Opnieuw aanvragen',
    errInvalidClientId: 'Vul de client_id in: die begint met acc_ of prd_, gevolgd door 20 tekens.',
    errLinkInvalid: 'Deze bevestigingslink is niet geldig, al gebruikt of verlopen.',
  },
} as const satisfies Record<Lang, unknown>;

/** A rotation refusal in the page's language: English as the service wrote it, Dutch by its code. */
export function rotationErrorText(lang: Lang, code: string, message: string): string {
  if (lang === 'en') return message;
  const t = ROTATION_TEXT.nl;
  return code === 'rotation/invalid_client_id' ? t.errInvalidClientId : code === 'rotation/link_invalid' ? t.errLinkInvalid : message;
}
