/**
 * Value kinds of the synthetic benchmark: every fact's value (a date, an e-mail address, a town,
 * ...) has a kind that can draw a fresh random value and recognise one. Perturbed answers are drawn
 * from the same kind as the true value, which is what makes them "wrong but plausible, same type";
 * the tests check every perturbed value with `is`. Promises: `draw` only uses the given Rng, and
 * every drawn value satisfies `is` of its kind.
 */
import type { Rng } from '../../tensor/rng.ts';
import { pick } from './random.ts';
import {
  ADVERSARIES,
  COMPANY_ENDS,
  COMPANY_STARTS,
  DESTINATIONS,
  EXPORTS,
  FEMALE_FIRST,
  HERO_ENDINGS,
  HERO_ONSETS,
  HOBBIES,
  MALE_FIRST,
  MATERIALS,
  MONTHS,
  OBJECTS,
  OCCUPATIONS,
  PET_NAMES,
  RIVERS,
  STORY_ADJECTIVES,
  STORY_LANDFORMS,
  STREET_NAMES,
  STREET_TYPES,
  SURNAMES,
  TOWN_ENDS,
  TOWN_STARTS,
  UNIVERSITY_FORMS,
} from './words.ts';

export type KindName =
  | 'fullName'
  | 'date'
  | 'town'
  | 'address'
  | 'email'
  | 'phone'
  | 'company'
  | 'occupation'
  | 'university'
  | 'hobby'
  | 'petName'
  | 'river'
  | 'export'
  | 'year'
  | 'heroName'
  | 'storyObject'
  | 'storyPlace'
  | 'adversary'
  | 'destination';

export interface ValueKind {
  draw(rng: Rng): string;
  is(value: string): boolean;
}

const FIRST_NAMES = [...FEMALE_FIRST, ...MALE_FIRST];
export const TOWNS: readonly string[] = TOWN_STARTS.flatMap((s) => TOWN_ENDS.map((e) => s + e));
export const COMPANIES: readonly string[] = COMPANY_STARTS.flatMap((s) =>
  COMPANY_ENDS.map((e) => `${s} ${e}`),
);
const townSet = new Set(TOWNS);
const companySet = new Set(COMPANIES);

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function drawDate(rng: Rng, fromYear = 1945, toYear = 2003): string {
  const year = rng.int(fromYear, toYear + 1);
  const month = rng.int(0, 12);
  const days = month === 1 && !isLeap(year) ? 28 : DAYS_IN_MONTH[month];
  return `${rng.int(1, days + 1)} ${MONTHS[month]} ${year}`;
}

function isDate(v: string): boolean {
  const m = /^(\d{1,2}) ([A-Z][a-z]+) (\d{4})$/.exec(v);
  if (!m) return false;
  const month = MONTHS.indexOf(m[2]);
  const year = Number(m[3]);
  const days = month === 1 && !isLeap(year) ? 28 : DAYS_IN_MONTH[month];
  return month >= 0 && Number(m[1]) >= 1 && Number(m[1]) <= days;
}

/** The e-mail domain of a company: "Granite Peak Foods" -> "granitepeakfoods.example" (.example is reserved). */
export function companyDomain(company: string): string {
  return `${company.toLowerCase().replace(/[^a-z0-9]/g, '')}.example`;
}

const LOCAL_STYLES: ((first: string, last: string) => string)[] = [
  (f, l) => `${f}.${l}`,
  (f, l) => `${f[0]}.${l}`,
  (f, l) => `${f}${l[0]}`,
  (f, l) => `${l}.${f}`,
];

/** An e-mail address for a name at a company, in one of a few local-part styles. */
export function emailFor(rng: Rng, first: string, last: string, company: string): string {
  const clean = (s: string): string => s.toLowerCase().replace(/[^a-z]/g, '');
  return `${pick(rng, LOCAL_STYLES)(clean(first), clean(last))}@${companyDomain(company)}`;
}

export function drawPhone(rng: Rng): string {
  return `0${rng.int(10, 100)} ${rng.int(100, 1000)} ${rng.int(1000, 10000)}`;
}

export function streetAddress(rng: Rng, town: string): string {
  return `${rng.int(1, 200)} ${pick(rng, STREET_NAMES)} ${pick(rng, STREET_TYPES)}, ${town}`;
}

export function universityIn(rng: Rng, town: string): string {
  return pick(rng, UNIVERSITY_FORMS).replace('#', town);
}

const fromList = (items: readonly string[]): ValueKind => {
  const set = new Set(items);
  return { draw: (rng) => pick(rng, items), is: (v) => set.has(v) };
};

export const KINDS: Record<KindName, ValueKind> = {
  fullName: {
    draw: (rng) => `${pick(rng, FIRST_NAMES)} ${pick(rng, SURNAMES)}`,
    is: (v) => {
      const [first, last, ...rest] = v.split(' ');
      return rest.length === 0 && FIRST_NAMES.includes(first) && SURNAMES.includes(last);
    },
  },
  date: { draw: (rng) => drawDate(rng), is: isDate },
  town: { draw: (rng) => pick(rng, TOWNS), is: (v) => townSet.has(v) },
  address: {
    draw: (rng) => streetAddress(rng, pick(rng, TOWNS)),
    is: (v) => {
      const m = /^(\d+) (\S+) (\S+), (.+)$/.exec(v);
      return (
        m !== null &&
        Number(m[1]) >= 1 &&
        STREET_NAMES.includes(m[2]) &&
        STREET_TYPES.includes(m[3]) &&
        townSet.has(m[4])
      );
    },
  },
  email: {
    draw: (rng) => emailFor(rng, pick(rng, FIRST_NAMES), pick(rng, SURNAMES), pick(rng, COMPANIES)),
    is: (v) => /^[a-z]+(\.[a-z]+)?\d*@[a-z0-9]+\.example$/.test(v),
  },
  phone: { draw: drawPhone, is: (v) => /^0\d{2} \d{3} \d{4}$/.test(v) },
  company: { draw: (rng) => pick(rng, COMPANIES), is: (v) => companySet.has(v) },
  occupation: fromList(OCCUPATIONS),
  university: {
    draw: (rng) => universityIn(rng, pick(rng, TOWNS)),
    is: (v) =>
      UNIVERSITY_FORMS.some((form) => {
        const [before, after] = form.split('#');
        return (
          v.startsWith(before) &&
          v.endsWith(after) &&
          townSet.has(v.slice(before.length, v.length - after.length))
        );
      }),
  },
  hobby: fromList(HOBBIES),
  petName: fromList(PET_NAMES),
  river: fromList(RIVERS),
  export: fromList(EXPORTS),
  year: { draw: (rng) => String(rng.int(1100, 1900)), is: (v) => /^1[1-8]\d\d$/.test(v) },
  heroName: {
    draw: (rng) => pick(rng, HERO_ONSETS) + pick(rng, HERO_ENDINGS),
    is: (v) => HERO_ONSETS.some((o) => v.startsWith(o) && HERO_ENDINGS.includes(v.slice(o.length))),
  },
  storyObject: {
    draw: (rng) => `${pick(rng, MATERIALS)} ${pick(rng, OBJECTS)}`,
    is: (v) => {
      const [m, o, ...rest] = v.split(' ');
      return rest.length === 0 && MATERIALS.includes(m) && OBJECTS.includes(o);
    },
  },
  storyPlace: {
    draw: (rng) => `the ${pick(rng, STORY_ADJECTIVES)} ${pick(rng, STORY_LANDFORMS)}`,
    is: (v) => {
      const m = /^the (\S+) (\S+)$/.exec(v);
      return m !== null && STORY_ADJECTIVES.includes(m[1]) && STORY_LANDFORMS.includes(m[2]);
    },
  },
  adversary: fromList(ADVERSARIES),
  destination: fromList(DESTINATIONS),
};
