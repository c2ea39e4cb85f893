import { Injectable } from '@nestjs/common';
import { Eta } from 'eta';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Language } from '../generated/prisma/enums.js';

const TEMPLATES = join(dirname(fileURLToPath(import.meta.url)), 'templates');
const NAME = /^[a-z0-9][a-z0-9-]*$/;

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/**
 * Renders `templates/<name>/<lang>.{subject,text,html}.eta` with `it` = the message data. The HTML part is
 * escaped and wrapped in the one mail layout; the subject and text parts are plain text, not escaped.
 */
@Injectable()
export class TemplateRenderer {
  private readonly html = new Eta({ views: TEMPLATES, autoEscape: true, cache: true, autoTrim: false });
  private readonly plain = new Eta({ views: TEMPLATES, autoEscape: false, cache: true, autoTrim: false });

  email(name: string, language: Language, data: Record<string, unknown>): RenderedEmail {
    const base = this.base(name, language, 'subject');
    const subject = this.plain.render(`${base}.subject.eta`, data).replace(/\s+/g, ' ').trim();
    const text = this.plain.render(`${base}.text.eta`, data).trim() + '\n';
    const body = this.html.render(`${base}.html.eta`, data);
    const html = this.html.render('/layout.html.eta', { body, subject, lang: language });
    return { subject, text, html };
  }

  sms(name: string, language: Language, data: Record<string, unknown>): string {
    return this.plain
      .render(`${this.base(name, language, 'text')}.text.eta`, data)
      .replace(/\s+\n/g, '\n')
      .trim();
  }

  exists(name: string, channel: 'email' | 'sms'): boolean {
    return NAME.test(name) && existsSync(join(TEMPLATES, name, `en.${channel === 'email' ? 'subject' : 'text'}.eta`));
  }

  /** Falls back to English when a template has no translation yet. */
  private base(name: string, language: Language, part: string): string {
    if (!NAME.test(name)) throw new Error(`bad template name "${name}"`);
    const lang = existsSync(join(TEMPLATES, name, `${language}.${part}.eta`)) ? language : 'en';
    return `/${name}/${lang}`;
  }
}
