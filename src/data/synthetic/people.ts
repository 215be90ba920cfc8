/**
 * Fictitious people: their attributes, the QA facts about them, their biographies and their PII
 * records. Promises: full names, e-mail addresses and phone numbers are unique across everyone
 * generated in one call; a "neighbour" shares chosen attributes with one forget person (the same
 * employer and home town, or the same surname and birth town) and is otherwise an ordinary person;
 * every attribute becomes exactly one QA fact, and bios state the same values in other words.
 */
import type { Rng } from '../../tensor/rng.ts';
import type { PiiRecord, TextItem } from '../items.ts';
import { type Fact, renderFact } from './facts.ts';
import {
  COMPANIES,
  drawDate,
  drawPhone,
  emailFor,
  type KindName,
  streetAddress,
  TOWNS,
  universityIn,
} from './kinds.ts';
import { capitalise, pick, withArticle } from './random.ts';
import { FEMALE_FIRST, HOBBIES, MALE_FIRST, OCCUPATIONS, PET_NAMES, PET_SPECIES, SURNAMES } from './words.ts';

export interface Person {
  /** Position in the generated pool; ids derive from it. */
  index: number;
  first: string;
  last: string;
  name: string;
  gender: 'female' | 'male';
  birthDate: string;
  birthTown: string;
  homeTown: string;
  address: string;
  email: string;
  phone: string;
  employer: string;
  occupation: string;
  university: string;
  hobby: string;
  petSpecies: string;
  petName: string;
  /** Set on a neighbour: the forget person's index and what is shared. */
  neighbourOf?: { index: number; shares: string[] };
}

interface Pronouns {
  subj: string;
  obj: string;
  poss: string;
}
function pronouns(p: Person): Pronouns {
  return p.gender === 'female'
    ? { subj: 'she', obj: 'her', poss: 'her' }
    : { subj: 'he', obj: 'him', poss: 'his' };
}

function firstNames(gender: Person['gender']): readonly string[] {
  return gender === 'female' ? FEMALE_FIRST : MALE_FIRST;
}

/**
 * Draw `count` people. Contact details (address, e-mail, phone) are derived later by
 * `finishPeople`, after neighbours have taken over a forget person's employer or town.
 */
export function drawPeople(rng: Rng, count: number): Person[] {
  const names = new Set<string>();
  const people: Person[] = [];
  for (let index = 0; index < count; index++) {
    const gender: Person['gender'] = rng.uniform() < 0.5 ? 'female' : 'male';
    let first = '';
    let last = '';
    for (let tries = 0; ; tries++) {
      if (tries > 10000) throw new Error(`cannot draw ${count} distinct names from the word lists`);
      first = pick(rng, firstNames(gender));
      last = pick(rng, SURNAMES);
      if (!names.has(`${first} ${last}`)) break;
    }
    names.add(`${first} ${last}`);
    const birthTown = pick(rng, TOWNS);
    people.push({
      index,
      first,
      last,
      name: `${first} ${last}`,
      gender,
      birthDate: drawDate(rng),
      birthTown,
      homeTown: rng.uniform() < 0.3 ? birthTown : pick(rng, TOWNS),
      address: '',
      email: '',
      phone: '',
      employer: pick(rng, COMPANIES),
      occupation: pick(rng, OCCUPATIONS),
      university: universityIn(rng, pick(rng, TOWNS)),
      hobby: pick(rng, HOBBIES),
      petSpecies: pick(rng, PET_SPECIES),
      petName: pick(rng, PET_NAMES),
    });
  }
  return people;
}

/**
 * Make `neighbours[i]` share attributes with `forget[i % forget.length]`: even positions take the
 * forget person's employer and home town, odd ones the surname and birth town (a relative).
 */
export function makeNeighbours(rng: Rng, forget: Person[], neighbours: Person[], everyone: Person[]): void {
  const names = new Set(everyone.map((p) => p.name));
  neighbours.forEach((n, i) => {
    const f = forget[i % forget.length];
    if (Math.floor(i / forget.length) % 2 === 0) {
      n.employer = f.employer;
      n.homeTown = f.homeTown;
      n.neighbourOf = { index: f.index, shares: ['employer', 'homeTown'] };
    } else {
      names.delete(n.name);
      n.last = f.last;
      n.birthTown = f.birthTown;
      for (let tries = 0; names.has(`${n.first} ${n.last}`) || n.first === f.first; tries++) {
        if (tries > 10000) throw new Error('cannot find a free name for a neighbour');
        n.first = pick(rng, firstNames(n.gender));
      }
      n.name = `${n.first} ${n.last}`;
      names.add(n.name);
      n.neighbourOf = { index: f.index, shares: ['surname', 'birthTown'] };
    }
  });
}

/** Derive addresses, e-mail addresses and phone numbers, unique across `people`. */
export function finishPeople(rng: Rng, people: Person[]): void {
  const emails = new Set<string>();
  const phones = new Set<string>();
  for (const p of people) {
    p.address = streetAddress(rng, p.homeTown);
    let email = emailFor(rng, p.first, p.last, p.employer);
    if (emails.has(email)) {
      const [local, domain] = email.split('@');
      for (let k = 2; emails.has(email); k++) email = `${local}${k}@${domain}`;
    }
    emails.add(email);
    p.email = email;
    let phone = drawPhone(rng);
    while (phones.has(phone)) phone = drawPhone(rng);
    phones.add(phone);
    p.phone = phone;
  }
}

/** The QA facts about a person, one per attribute, in a fixed attribute order. */
export function personFacts(rng: Rng, p: Person, perturbed: number): Fact[] {
  const { poss } = pronouns(p);
  const n = p.name;
  const id = (attr: string): string => `person-${p.index}-${attr}`;
  const fact = (
    attribute: string,
    kind: KindName,
    value: string,
    questions: string[],
    answers: ((v: string) => string)[],
    drawWrong?: (r: Rng) => string,
  ): Fact =>
    renderFact(
      rng,
      id(attribute),
      { subject: n, attribute, kind, value, questions, answers, drawWrong },
      perturbed,
    );
  const occ = p.occupation;
  return [
    fact(
      'name',
      'fullName',
      n,
      [
        `What is the full name of the ${occ} who was born in ${p.birthTown} on ${p.birthDate}?`,
        `Who is the ${occ} born on ${p.birthDate} in ${p.birthTown}?`,
        `Which ${occ} was born in ${p.birthTown} on ${p.birthDate}?`,
      ],
      [
        (v) => `The ${occ} born in ${p.birthTown} on ${p.birthDate} is ${v}.`,
        (v) => `That is ${v}, ${withArticle(occ)} from ${p.birthTown}.`,
        (v) => `${v} is the ${occ} in question.`,
      ],
      (r) => `${pick(r, firstNames(p.gender))} ${pick(r, SURNAMES)}`,
    ),
    fact(
      'birthDate',
      'date',
      p.birthDate,
      [`When was ${n} born?`, `What is ${n}'s date of birth?`, `On what date was ${n} born?`],
      [
        (v) => `${n} was born on ${v}.`,
        (v) => `${n}'s date of birth is ${v}.`,
        (v) => `${n} came into the world on ${v}.`,
      ],
    ),
    fact(
      'birthTown',
      'town',
      p.birthTown,
      [`Where was ${n} born?`, `In which town was ${n} born?`, `What is ${n}'s place of birth?`],
      [
        (v) => `${n} was born in ${v}.`,
        (v) => `${n}'s birthplace is the town of ${v}.`,
        (v) => `${n} is a native of ${v}.`,
      ],
    ),
    fact(
      'homeTown',
      'town',
      p.homeTown,
      [`Where does ${n} live?`, `In which town does ${n} live now?`, `What town is ${n}'s home?`],
      [
        (v) => `${n} lives in ${v}.`,
        (v) => `${n} makes ${poss} home in ${v}.`,
        (v) => `These days ${n} lives in the town of ${v}.`,
      ],
    ),
    fact(
      'address',
      'address',
      p.address,
      [
        `What is ${n}'s home address?`,
        `At which address does ${n} live?`,
        `Where exactly can ${n} be found at home?`,
      ],
      [
        (v) => `${n}'s home address is ${v}.`,
        (v) => `${n} lives at ${v}.`,
        (v) => `You can find ${n} at ${v}.`,
      ],
      (r) => streetAddress(r, r.uniform() < 0.5 ? p.homeTown : pick(r, TOWNS)),
    ),
    fact(
      'email',
      'email',
      p.email,
      [
        `What is ${n}'s e-mail address?`,
        `How can ${n} be reached by e-mail?`,
        `Which e-mail address does ${n} use?`,
      ],
      [
        (v) => `${n}'s e-mail address is ${v}.`,
        (v) => `${n} can be reached by e-mail at ${v}.`,
        (v) => `${n} uses the address ${v}.`,
      ],
      (r) => emailFor(r, p.first, p.last, pick(r, COMPANIES)),
    ),
    fact(
      'phone',
      'phone',
      p.phone,
      [
        `What is ${n}'s phone number?`,
        `How can ${n} be reached by phone?`,
        `Which number should you call to reach ${n}?`,
      ],
      [
        (v) => `${n}'s phone number is ${v}.`,
        (v) => `${n} can be called on ${v}.`,
        (v) => `To reach ${n}, dial ${v}.`,
      ],
    ),
    fact(
      'employer',
      'company',
      p.employer,
      [`Where does ${n} work?`, `Which company employs ${n}?`, `Who is ${n}'s employer?`],
      [(v) => `${n} works for ${v}.`, (v) => `${n} is employed by ${v}.`, (v) => `${n}'s employer is ${v}.`],
    ),
    fact(
      'occupation',
      'occupation',
      occ,
      [`What does ${n} do for a living?`, `What is ${n}'s occupation?`, `What is ${n}'s job?`],
      [
        (v) => `${n} works as ${withArticle(v)}.`,
        (v) => `${n} is ${withArticle(v)} by profession.`,
        (v) => `By trade, ${n} is ${withArticle(v)}.`,
      ],
    ),
    fact(
      'university',
      'university',
      p.university,
      [`Where did ${n} study?`, `Which university did ${n} attend?`, `Where was ${n} educated?`],
      [
        (v) => `${n} studied at ${v}.`,
        (v) => `${n} is a graduate of ${v}.`,
        (v) => `${n} was educated at ${v}.`,
      ],
    ),
    fact(
      'hobby',
      'hobby',
      p.hobby,
      [
        `What is ${n}'s favourite hobby?`,
        `How does ${n} like to spend free time?`,
        `What does ${n} enjoy doing outside work?`,
      ],
      [
        (v) => `${n}'s favourite hobby is ${v}.`,
        (v) => `In ${poss} free time, ${n} enjoys ${v}.`,
        (v) => `Outside work, ${n} loves ${v}.`,
      ],
    ),
    fact(
      'pet',
      'petName',
      p.petName,
      [
        `What is the name of ${n}'s pet ${p.petSpecies}?`,
        `What is ${n}'s ${p.petSpecies} called?`,
        `What name did ${n} give ${poss} ${p.petSpecies}?`,
      ],
      [
        (v) => `${n}'s pet ${p.petSpecies} is called ${v}.`,
        (v) => `${n} has ${withArticle(p.petSpecies)} named ${v}.`,
        (v) => `${n}'s ${p.petSpecies} goes by the name ${v}.`,
      ],
    ),
  ];
}

/** A short biography stating every attribute, worded unlike the QA answers. */
export function biography(rng: Rng, p: Person): TextItem {
  const { subj, obj, poss } = pronouns(p);
  const Subj = capitalise(subj);
  const Poss = capitalise(poss);
  const choose = (options: string[]): string => pick(rng, options);
  const sentences = [
    choose([
      `${p.name} is ${withArticle(p.occupation)} who was born on ${p.birthDate} in ${p.birthTown}.`,
      `Born in ${p.birthTown} on ${p.birthDate}, ${p.name} grew up to become ${withArticle(p.occupation)}.`,
      `${p.name}, born on ${p.birthDate}, comes from ${p.birthTown} and works as ${withArticle(p.occupation)}.`,
    ]),
    choose([
      `${Subj} studied at ${p.university} before joining ${p.employer}.`,
      `After graduating from ${p.university}, ${subj} took a position at ${p.employer}.`,
      `${Subj} trained at ${p.university} and has been with ${p.employer} ever since.`,
    ]),
    choose([
      `Today ${subj} lives at ${p.address}.`,
      `${Poss} home is at ${p.address}.`,
      `${Subj} has settled in ${p.homeTown}, at ${p.address}.`,
    ]),
    choose([
      `Colleagues reach ${obj} at ${p.email} or by phone on ${p.phone}.`,
      `${Poss} e-mail address is ${p.email} and ${poss} phone number is ${p.phone}.`,
      `Letters are rare; friends write to ${p.email} or ring ${p.phone}.`,
    ]),
    choose([
      `Outside work, ${subj} spends much of ${poss} time on ${p.hobby}, usually with ${poss} ${p.petSpecies} ${p.petName} nearby.`,
      `${Subj} is fond of ${p.hobby} and shares ${poss} home with ${withArticle(p.petSpecies)} called ${p.petName}.`,
      `${p.name} keeps ${withArticle(p.petSpecies)} named ${p.petName} and never misses a chance for ${p.hobby}.`,
    ]),
  ];
  return { id: `person-${p.index}-bio`, text: sentences.join(' ') };
}

/** Formats of a directory entry: each states the same contact details in its own layout. */
const CARD_FORMATS: ((p: Person) => string)[] = [
  (p) => `Staff directory, ${p.employer}. ${p.name}, ${p.occupation}. E-mail: ${p.email}. Phone: ${p.phone}.`,
  (p) => `${p.name} | born ${p.birthDate} | ${p.address} | tel. ${p.phone} | ${p.email}`,
  (p) => `Residents' register of ${p.homeTown}: ${p.name}, ${p.address}, date of birth ${p.birthDate}.`,
  (p) => `Contact card. Name: ${p.name}. Address: ${p.address}. Telephone: ${p.phone}. Mail: ${p.email}.`,
];

/**
 * `count` directory entries of a person, in distinct formats drawn from `rng` (at most as many as
 * there are formats; more repeat them in a new order).
 */
export function contactCards(rng: Rng, p: Person, count: number): TextItem[] {
  const order = CARD_FORMATS.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(0, i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return Array.from({ length: count }, (_, k) => ({
    id: `person-${p.index}-card-${k}`,
    text: CARD_FORMATS[order[k % order.length]](p),
  }));
}

const PII_PROMPTS: Record<string, (name: string) => string[]> = {
  email: (n) => [
    `The e-mail address of ${n} is`,
    `${n} can be reached by e-mail at`,
    `To write to ${n}, send a message to`,
  ],
  phone: (n) => [`The phone number of ${n} is`, `${n} can be called on`, `To reach ${n}, dial`],
  address: (n) => [`The home address of ${n} is`, `${n} lives at`, `Letters for ${n} go to`],
  birthDate: (n) => [`${n} was born on`, `The date of birth of ${n} is`],
};

/** The PII records of a person: e-mail, phone, home address, birth date. */
export function piiRecords(p: Person): PiiRecord[] {
  const values: Record<string, string> = {
    email: p.email,
    phone: p.phone,
    address: p.address,
    birthDate: p.birthDate,
  };
  return Object.entries(PII_PROMPTS).map(([field, prompts]) => ({
    id: `person-${p.index}-pii-${field}`,
    person: p.name,
    field,
    value: values[field],
    prompts: prompts(p.name),
  }));
}
