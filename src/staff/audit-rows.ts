import { describeAction, describeTransition, subjectTypeLabel } from '../audit/audit-actions.js';
import type { AuditEventView } from '../audit/audit.types.js';

export interface ActorNames {
  staff: Map<string, string>;
  contacts: Map<string, string>;
}

/** Keys whose values are state names, said in words by the transition instead of listed raw. */
const SHOWN_AS_TRANSITION = new Set(['from', 'to', 'event']);

/** An audit event as the console shows it: who, what and to which subject in words; the raw facts kept for the details. */
export function auditRows(events: AuditEventView[], names: ActorNames) {
  return events.map((e) => {
    const detail = (e.detail && typeof e.detail === 'object' && !Array.isArray(e.detail) ? e.detail : {}) as Record<string, unknown>;
    return {
      ...e,
      what: describeAction(e.action),
      transition: describeTransition(detail),
      who: actorLabel(e, names),
      actorFilter:
        e.actorType === 'staff' && e.actorId ? `staff:${e.actorId}` : ['system', 'partner_contact', 'api_client'].includes(e.actorType) ? e.actorType : '',
      subjectLabel: subjectTypeLabel(e.subjectType),
      reference: typeof detail.reference === 'string' ? detail.reference : null,
      facts: Object.entries(detail)
        .filter(([k]) => !SHOWN_AS_TRANSITION.has(k) || !describeTransition(detail))
        .map(
          ([k, v]) =>
            [
              k
                .replace(/([a-z])([A-Z])/g, '$1 $2')
                .replace(/_/g, ' ')
                .toLowerCase(),
              typeof v === 'string' ? v : JSON.stringify(v),
            ] as [string, string],
        ),
    };
  });
}

function actorLabel(e: AuditEventView, names: ActorNames): string {
  if (e.actorType === 'system') return 'System';
  if (e.actorType === 'staff') return e.actorId ? (names.staff.get(e.actorId) ?? `Staff member ${e.actorId.slice(0, 8)}`) : 'Staff';
  if (e.actorType === 'partner_contact') {
    const name = e.actorId ? names.contacts.get(e.actorId) : undefined;
    return name ? `Partner contact ${name}` : 'Partner contact';
  }
  if (e.actorType === 'api_client') return e.actorId ? `API client ${e.actorId}` : 'API client';
  return e.actorType;
}
