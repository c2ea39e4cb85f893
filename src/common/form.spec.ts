import 'reflect-metadata';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { DomainError } from './domain-error.js';
import { fieldErrorsOf, formText, readForm } from './form.js';
import { isE164, phoneToE164 } from './phone.js';

class NoteDto {
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString({ message: 'Enter a note' })
  @MinLength(5, { message: 'Enter a note of at least 5 characters' })
  @MaxLength(20, { message: 'A note must be 20 characters or fewer' })
  note!: string;

  @IsOptional()
  @IsIn(['nl', 'en'], { message: 'Choose nl or en' })
  language?: string;

  @IsOptional()
  @Matches(/^[a-z]+$/, { message: 'Choose a tag' })
  tag?: string;
}

describe('readForm', () => {
  it('gives the DTO for a valid form, transformed like the JSON API', async () => {
    const form = await readForm(NoteDto, { note: '  a fine note ', language: 'nl', _csrf: 'x' });
    expect(form).toMatchObject({ ok: true, value: { note: 'a fine note', language: 'nl' } });
    expect(form.value).toBeInstanceOf(NoteDto);
  });

  it('names a missing field with its message', async () => {
    expect(await readForm(NoteDto, {})).toEqual({ ok: false, errors: { note: 'Enter a note' } });
  });

  it('names a field that is too long', async () => {
    expect(await readForm(NoteDto, { note: 'x'.repeat(21) })).toEqual({ ok: false, errors: { note: 'A note must be 20 characters or fewer' } });
  });

  it('names a field of the wrong kind', async () => {
    expect((await readForm(NoteDto, { note: 'a fine note', language: 'fr' })).errors).toEqual({ language: 'Choose nl or en' });
  });

  it('refuses a duplicated field (an array where text belongs) with the field message, never a 500', async () => {
    expect((await readForm(NoteDto, { note: ['a fine note', 'another one'] })).errors).toEqual({ note: 'Enter a note' });
    expect((await readForm(NoteDto, { note: 'a fine note', tag: ['a', 'b'] })).errors).toEqual({ tag: 'Choose a tag' });
  });

  it('treats a blank optional field as unanswered, a blank required one as an empty answer', async () => {
    expect(await readForm(NoteDto, { note: 'a fine note', language: '', tag: '' })).toMatchObject({ ok: true });
    expect((await readForm(NoteDto, { note: '' })).errors).toEqual({ note: 'Enter a note of at least 5 characters' });
  });

  it('refuses a field no page sends, as the JSON API does (400 request/validation_failed)', async () => {
    const err = await readForm(NoteDto, { note: 'a fine note', isAdmin: 'true' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'request/validation_failed', details: { fields: { isAdmin: ['property isAdmin should not exist'] } } });
  });

  it("drops the page's own fields it is told about", async () => {
    expect(await readForm(NoteDto, { note: 'a fine note', lang: 'nl' }, { pageFields: ['lang'] })).toMatchObject({ ok: true });
  });

  it("maps DTO paths onto the form's field ids and the page's language", async () => {
    const nl: Record<string, string> = { 'Enter a note': 'Vul een notitie in' };
    const form = await readForm(NoteDto, {}, { fieldIds: (p) => (p === 'note' ? 'noteField' : p), translate: (m) => nl[m] ?? m });
    expect(form.errors).toEqual({ noteField: 'Vul een notitie in' });
  });

  it('reads a body that is no object as an empty form', async () => {
    expect((await readForm(NoteDto, 'note=x')).errors).toEqual({ note: 'Enter a note' });
    expect((await readForm(NoteDto, null)).errors).toEqual({ note: 'Enter a note' });
  });
});

describe('fieldErrorsOf and formText', () => {
  it("puts a service's field refusal on the form, or the message on a fallback field", () => {
    const named = new DomainError('invalid', 'request/validation_failed', 'No.', { fields: { code: ['Enter the code'] } });
    expect(fieldErrorsOf(named, { fieldIds: (p) => (p === 'code' ? 'passwordCode' : p) })).toEqual({ passwordCode: 'Enter the code' });
    expect(fieldErrorsOf(new DomainError('conflict', 'request/conflict', 'Someone was first.'), { fallback: 'rotation' })).toEqual({
      rotation: 'Someone was first.',
    });
  });

  it('shows back single text values only', () => {
    expect(formText({ q: '  abc  ' }, 'q')).toBe('abc');
    expect(formText({ q: ['a', 'b'] }, 'q')).toBe('');
    expect(formText({ q: 'x'.repeat(10) }, 'q', 4)).toBe('xxxx');
  });
});

describe('phone numbers', () => {
  it.each([
    ['06 12345678', 'NL', '+31612345678'],
    ['0031 6 12345678', 'DE', '+31612345678'],
    ['+31 6 1234 5678', undefined, '+31612345678'],
  ])('reads %s (%s) as %s', (typed, country, e164) => expect(phoneToE164(typed, country)).toBe(e164));
  it.each(['0612345678', '+31 6 1234 5678 ext 5', '+31612345678abc', 'call me', '', '+3120123456'])('does not read %s without a country', (n) => {
    expect(phoneToE164(n)).toBeNull();
  });
  it('knows E.164 as written', () => {
    expect(isE164('+31612345678')).toBe(true);
    expect(isE164('+31 6 12345678')).toBe(false);
    expect(isE164('+1234')).toBe(false);
    expect(isE164('0612345678')).toBe(false);
  });
});
