/**
 * Invented places: the synthetic analogue of TOFU's "world facts". Each place has a capital,
 * a river, a main export and a founding year. Promises: place names are unique within one call
 * (and never equal a name in `exclude`); `placeFacts` gives one QA fact per property; the
 * encyclopedia entry states the same values; `utilityText` describes a place in sentences that
 * share the style but are meant to be kept out of training (held-out general text).
 */
import type { Rng } from '../../tensor/rng.ts';
import type { TextItem } from '../items.ts';
import { type Fact, renderFact } from './facts.ts';
import { KINDS, TOWNS } from './kinds.ts';
import { capitalise, pick, withArticle } from './random.ts';
import { EXPORTS, LANDMARKS, PLACE_ENDS, PLACE_KINDS, PLACE_STARTS, RIVERS, TRANSPORT } from './words.ts';

export interface Place {
  index: number;
  name: string;
  kind: string;
  capital: string;
  river: string;
  export: string;
  founded: string;
}

/** Draw `count` places with names not in `exclude` (which is updated). */
export function drawPlaces(rng: Rng, count: number, firstIndex: number, exclude: Set<string>): Place[] {
  if (count > PLACE_STARTS.length * PLACE_ENDS.length - exclude.size) {
    throw new Error(`cannot draw ${count} distinct place names`);
  }
  const out: Place[] = [];
  for (let i = 0; i < count; i++) {
    let name = '';
    do name = pick(rng, PLACE_STARTS) + pick(rng, PLACE_ENDS);
    while (exclude.has(name));
    exclude.add(name);
    out.push({
      index: firstIndex + i,
      name,
      kind: pick(rng, PLACE_KINDS),
      capital: pick(rng, TOWNS),
      river: pick(rng, RIVERS),
      export: pick(rng, EXPORTS),
      founded: KINDS.year.draw(rng),
    });
  }
  return out;
}

function called(p: Place): string {
  return `the ${p.kind} of ${p.name}`;
}

// World facts are scored like TOFU's world facts: the answer's probability among its options,
// so the true and perturbed options share one wording.
const ONE_WORDING = { oneWording: true };

export function placeFacts(rng: Rng, p: Place, perturbed: number): Fact[] {
  const c = called(p);
  const C = capitalise(c);
  const id = (attr: string): string => `place-${p.index}-${attr}`;
  const base = { subject: p.name };
  return [
    renderFact(
      rng,
      id('capital'),
      {
        ...base,
        attribute: 'capital',
        kind: 'town',
        value: p.capital,
        questions: [
          `What is the capital of ${c}?`,
          `Which town is the capital of ${c}?`,
          `Where is the seat of government of ${c}?`,
        ],
        answers: [
          (v) => `The capital of ${c} is ${v}.`,
          (v) => `${v} is the capital of ${c}.`,
          (v) => `${C} is governed from ${v}.`,
        ],
      },
      perturbed,
      ONE_WORDING,
    ),
    renderFact(
      rng,
      id('river'),
      {
        ...base,
        attribute: 'river',
        kind: 'river',
        value: p.river,
        questions: [`Which river flows through ${c}?`, `What is the name of the river of ${c}?`],
        answers: [(v) => `The River ${v} flows through ${c}.`, (v) => `${C} is crossed by the River ${v}.`],
      },
      perturbed,
      ONE_WORDING,
    ),
    renderFact(
      rng,
      id('export'),
      {
        ...base,
        attribute: 'export',
        kind: 'export',
        value: p.export,
        questions: [`What is the main export of ${c}?`, `What does ${c} mostly sell abroad?`],
        answers: [
          (v) => `The main export of ${c} is ${v}.`,
          (v) => `${C} is best known abroad for its ${v}.`,
        ],
      },
      perturbed,
      ONE_WORDING,
    ),
    renderFact(
      rng,
      id('founded'),
      {
        ...base,
        attribute: 'founded',
        kind: 'year',
        value: p.founded,
        questions: [`In which year was ${c} founded?`, `When was ${c} founded?`],
        answers: [(v) => `${C} was founded in ${v}.`, (v) => `The founding of ${c} dates to ${v}.`],
      },
      perturbed,
      ONE_WORDING,
    ),
  ];
}

/** An encyclopedia-style entry about a place, stating all four facts. */
export function placeEntry(rng: Rng, p: Place): TextItem {
  const C = capitalise(called(p));
  const text = pick(rng, [
    `${C} was founded in ${p.founded}. Its capital is ${p.capital}, the River ${p.river} runs through it, and its main export is ${p.export}.`,
    `${p.name} is ${withArticle(p.kind)} founded in ${p.founded}, governed from ${p.capital} and crossed by the River ${p.river}. Traders know it for its ${p.export}.`,
  ]);
  return { id: `place-${p.index}-entry`, text };
}

/** General text about a place that is never trained on (for held-out perplexity). */
export function utilityText(rng: Rng, p: Place): TextItem {
  const C = capitalise(called(p));
  const sentences = [
    `${C} lies ${pick(rng, ['north', 'south', 'east', 'west'])} of ${pick(rng, TOWNS)} and is reached by ${pick(rng, TRANSPORT)}.`,
    `Its best-known sight is ${pick(rng, LANDMARKS)} near ${p.capital}.`,
    `Most families there make a living from ${p.export}, and the market in ${p.capital} opens before dawn.`,
    `In ${p.founded} the River ${p.river} flooded the lower town, and the old quarter was rebuilt in stone.`,
  ];
  return { id: `utility-${p.index}`, text: sentences.join(' ') };
}
