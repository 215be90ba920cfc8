/**
 * lethe's built-in synthetic unlearning benchmark: generated from a seed with no external data,
 * so lethe runs end to end without ../shared. Fictitious people (QA facts with paraphrases and
 * same-kind perturbations, biographies, PII), invented fiction to memorise verbatim (with KnowMem
 * QA about it), invented places (world facts, trained) and held-out general text (utility).
 *
 * Roles: the first ⌈forgetFraction·people⌉ people of the pool are forgotten, the rest retained;
 * `holdoutPeople` more are drawn by the same generator and never trained on. The first
 * neighboursPerForget·|forget| retained people are neighbours: each shares an employer and home
 * town, or a surname and birth town, with a forget person, and must survive unlearning. Holdout
 * people get the same kinds of links to the next neighboursPerForget·|holdout| retained people,
 * so forget and holdout people are built alike: a model trained on retain alone (the oracle)
 * cannot tell them apart, and a forget-vs-holdout membership AUC of 0.5 means "never trained".
 *
 * Promises: the same options give a deep-equal Task (and byte-identical files through
 * writeSyntheticTask); each part draws from its own named random stream, so e.g. more passages
 * leave the people unchanged; no person, passage or place is in two splits; at every preset each
 * split and each eval set listed in the task's header is non-empty.
 */
import { ConfigError } from '../../errors.ts';
import type { McqItem, QaItem, TextItem } from '../items.ts';
import { emptyEval, emptySplit, type Task, validateTask, writeTask } from '../task.ts';
import { type Fact, factMcq } from './facts.ts';
import { drawStories, type Story, splitPassage, storyFacts, storyText } from './fiction.ts';
import {
  biography,
  contactCards,
  drawPeople,
  finishPeople,
  makeNeighbours,
  type Person,
  personFacts,
  piiRecords,
} from './people.ts';
import { streamFor } from './random.ts';
import { IDK } from './words.ts';
import { drawPlaces, type Place, placeEntry, placeFacts, utilityText } from './world.ts';

/** Bump when a change to the generator or word lists changes the output for a given seed. */
export const SYNTHETIC_VERSION = 3;

export type SyntheticSize = 'tiny' | 'demo' | 'small' | 'large';

export interface SyntheticParams {
  /** People in forget ∪ retain. */
  people: number;
  /** Share of `people` to forget (at least one person). */
  forgetFraction: number;
  /** People drawn like the others but never trained on (membership-inference non-members). */
  holdoutPeople: number;
  /** Retained people made to share attributes with each forget person. */
  neighboursPerForget: number;
  forgetPassages: number;
  retainPassages: number;
  holdoutPassages: number;
  /** Invented places whose facts are trained on (in retain): the "world facts". */
  places: number;
  /** Held-out general documents about other invented places (never trained on). */
  utilityDocs: number;
  /** Perturbed answers per QA item. */
  perturbed: number;
  /**
   * Directory entries per person (text in the person's split, each restating the person's
   * contact details in its own format): personal data that appears in several documents, as it
   * does on the web, so that a small model memorises it and extraction can show unlearning.
   */
  contactCards: number;
}

export const SYNTHETIC_SIZES: Record<SyntheticSize, SyntheticParams> = {
  tiny: {
    people: 20,
    forgetFraction: 0.1,
    holdoutPeople: 4,
    neighboursPerForget: 2,
    forgetPassages: 2,
    retainPassages: 4,
    holdoutPassages: 2,
    places: 6,
    utilityDocs: 6,
    perturbed: 5,
    contactCards: 0,
  },
  /**
   * What `npm run demo` forgets from, sized for a run of minutes: 10 forget people among 40, so
   * that a small model trained for a few minutes memorises their personal data (each person's
   * contact details also appear in two directory entries) and unlearning has something to remove.
   * One neighbour per forget and holdout person leaves 10 ordinary retained people, as many as
   * the forget set, for the retain-side evaluation.
   */
  demo: {
    people: 40,
    forgetFraction: 1 / 4,
    holdoutPeople: 10,
    neighboursPerForget: 1,
    forgetPassages: 5,
    retainPassages: 12,
    holdoutPassages: 5,
    places: 15,
    utilityDocs: 20,
    perturbed: 5,
    contactCards: 2,
  },
  small: {
    people: 200,
    forgetFraction: 0.1,
    holdoutPeople: 20,
    neighboursPerForget: 2,
    forgetPassages: 10,
    retainPassages: 30,
    holdoutPassages: 10,
    places: 30,
    utilityDocs: 40,
    perturbed: 5,
    contactCards: 0,
  },
  large: {
    people: 1000,
    forgetFraction: 0.1,
    holdoutPeople: 100,
    neighboursPerForget: 2,
    forgetPassages: 40,
    retainPassages: 160,
    holdoutPassages: 40,
    places: 100,
    utilityDocs: 100,
    perturbed: 5,
    contactCards: 0,
  },
};

export interface SyntheticOptions extends Partial<SyntheticParams> {
  /** Preset the other options override (default 'small'). */
  size?: SyntheticSize;
  /** Integer seed (default 0). */
  seed?: number;
}

function resolveParams(options: SyntheticOptions): {
  size: SyntheticSize;
  seed: number;
  params: SyntheticParams;
} {
  const size = options.size ?? 'small';
  if (!(size in SYNTHETIC_SIZES)) {
    throw new ConfigError('unknown synthetic size', {
      expected: Object.keys(SYNTHETIC_SIZES).join(', '),
      found: String(size),
    });
  }
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed))
    throw new ConfigError('synthetic seed must be an integer', { found: String(seed) });
  const params = { ...SYNTHETIC_SIZES[size] };
  for (const key of Object.keys(params) as (keyof SyntheticParams)[]) {
    if (options[key] !== undefined) params[key] = options[key];
  }
  const int = (key: keyof SyntheticParams, min: number, max: number): void => {
    const v = params[key];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new ConfigError(`synthetic option ${key} out of range`, {
        expected: `an integer in [${min}, ${max}]`,
        found: String(v),
      });
    }
  };
  int('people', 2, 3000);
  int('holdoutPeople', 0, 1000);
  int('neighboursPerForget', 0, 10);
  int('forgetPassages', 0, 2000);
  int('retainPassages', 0, 2000);
  int('holdoutPassages', 0, 2000);
  int('perturbed', 1, 10);
  int('contactCards', 0, 8);
  int('places', 0, 120);
  int('utilityDocs', 0, 120);
  if (params.places + params.utilityDocs > 240) {
    throw new ConfigError('synthetic places + utilityDocs must be at most 240', {
      found: String(params.places + params.utilityDocs),
    });
  }
  if (!(params.forgetFraction > 0 && params.forgetFraction < 1)) {
    throw new ConfigError('synthetic forgetFraction must be in (0, 1)', {
      found: String(params.forgetFraction),
    });
  }
  const forget = forgetCount(params);
  const linked = forget + (forget + params.holdoutPeople) * params.neighboursPerForget;
  if (linked >= params.people) {
    throw new ConfigError(
      'too few people for the forget set and the neighbours of forget and holdout people',
      {
        expected: `people > ${linked} (forget ${forget} + (forget + holdoutPeople) × neighboursPerForget)`,
        found: String(params.people),
      },
    );
  }
  return { size, seed, params };
}

function forgetCount(p: SyntheticParams): number {
  return Math.min(p.people - 1, Math.max(1, Math.round(p.people * p.forgetFraction)));
}

const items = (facts: Fact[]): QaItem[] => facts.map((f) => f.item);

/** Everything a synthetic benchmark is built from, with the facts' values and kinds (for tests and tools). */
export interface SyntheticWorld {
  size: SyntheticSize;
  seed: number;
  params: SyntheticParams;
  forget: Person[];
  retain: Person[];
  holdout: Person[];
  /** The retained people that share attributes with forget people (a prefix of `retain`). */
  neighbours: Person[];
  /** The retained people linked the same way to holdout people (they follow `neighbours`). */
  holdoutNeighbours: Person[];
  /** QA facts per person index. */
  facts: Map<number, Fact[]>;
  bios: Map<number, TextItem>;
  /** Directory entries per person index (`contactCards` of them). */
  cards: Map<number, TextItem[]>;
  stories: { forget: Story[]; retain: Story[]; holdout: Story[] };
  /** KnowMem facts per story index. */
  storyFacts: Map<number, Fact[]>;
  world: Place[];
  worldFacts: Fact[];
  worldEntries: TextItem[];
  utility: TextItem[];
}

/** Draw the people, stories and places of a synthetic benchmark (no Task yet). */
export function buildSyntheticWorld(options: SyntheticOptions = {}): SyntheticWorld {
  const { size, seed, params } = resolveParams(options);
  const nForget = forgetCount(params);

  const pool = drawPeople(streamFor(seed, 'people'), params.people + params.holdoutPeople);
  const forget = pool.slice(0, nForget);
  const retain = pool.slice(nForget, params.people);
  const holdout = pool.slice(params.people);
  const nLinks = nForget * params.neighboursPerForget;
  const neighbours = retain.slice(0, nLinks);
  const holdoutNeighbours = retain.slice(nLinks, nLinks + holdout.length * params.neighboursPerForget);
  makeNeighbours(streamFor(seed, 'neighbours'), forget, neighbours, pool);
  if (holdout.length > 0)
    makeNeighbours(streamFor(seed, 'holdout-neighbours'), holdout, holdoutNeighbours, pool);
  finishPeople(streamFor(seed, 'contacts'), pool);

  const factRng = streamFor(seed, 'person-facts');
  const facts = new Map<number, Fact[]>(
    pool.map((p) => [p.index, personFacts(factRng, p, params.perturbed)]),
  );
  const bioRng = streamFor(seed, 'biographies');
  const bios = new Map<number, TextItem>(pool.map((p) => [p.index, biography(bioRng, p)]));
  const cardRng = streamFor(seed, 'contact-cards');
  const cards = new Map<number, TextItem[]>(
    pool.map((p) => [p.index, contactCards(cardRng, p, params.contactCards)]),
  );

  const nf = params.forgetPassages;
  const nr = params.retainPassages;
  const stories = drawStories(streamFor(seed, 'fiction'), nf + nr + params.holdoutPassages);
  const knowRng = streamFor(seed, 'knowmem');
  const storyFactMap = new Map(stories.map((s) => [s.index, storyFacts(knowRng, s, params.perturbed)]));

  const places = drawPlaces(streamFor(seed, 'world'), params.places + params.utilityDocs, 0, new Set());
  const world = places.slice(0, params.places);
  const worldRng = streamFor(seed, 'world-facts');
  const entryRng = streamFor(seed, 'world-entries');
  const utilityRng = streamFor(seed, 'utility');
  return {
    size,
    seed,
    params,
    forget,
    retain,
    holdout,
    neighbours,
    holdoutNeighbours,
    facts,
    bios,
    cards,
    stories: {
      forget: stories.slice(0, nf),
      retain: stories.slice(nf, nf + nr),
      holdout: stories.slice(nf + nr),
    },
    storyFacts: storyFactMap,
    world,
    worldFacts: world.flatMap((p) => placeFacts(worldRng, p, params.perturbed)),
    worldEntries: world.map((p) => placeEntry(entryRng, p)),
    utility: places.slice(params.places).map((p) => utilityText(utilityRng, p)),
  };
}

/** Generate the synthetic benchmark as a Task. */
export function generateSynthetic(options: SyntheticOptions = {}): Task {
  return syntheticTask(buildSyntheticWorld(options));
}

function syntheticTask(w: SyntheticWorld): Task {
  const { size, seed, params, forget, retain, holdout, neighbours } = w;
  const nForget = forget.length;
  const nNeighbours = neighbours.length + w.holdoutNeighbours.length;
  const factsOf = (people: Person[]): Fact[] => people.flatMap((p) => w.facts.get(p.index)!);
  const biosOf = (people: Person[]): TextItem[] =>
    people.flatMap((p) => [w.bios.get(p.index)!, ...w.cards.get(p.index)!]);
  const knowmemOf = (list: Story[]): QaItem[] => list.flatMap((s) => items(w.storyFacts.get(s.index)!));
  const storyForget = w.stories.forget;
  const storyRetain = w.stories.retain;
  const storyHoldout = w.stories.holdout;
  const worldFacts = w.worldFacts;
  const world = w.world;

  const splits = { forget: emptySplit(), retain: emptySplit(), holdout: emptySplit() };
  splits.forget.qa = items(factsOf(forget));
  splits.forget.text = [...biosOf(forget), ...storyForget.map(storyText)];
  splits.retain.qa = [...items(factsOf(retain)), ...items(worldFacts)];
  splits.retain.text = [...biosOf(retain), ...storyRetain.map(storyText), ...w.worldEntries];
  splits.holdout.qa = items(factsOf(holdout));
  splits.holdout.text = [...biosOf(holdout), ...storyHoldout.map(storyText)];

  // Retain-side truth-ratio set: as many ordinary (non-neighbour) retained people as forgotten ones.
  const retainEval = retain.slice(nNeighbours, nNeighbours + nForget);
  const mcqRng = streamFor(seed, 'mcq');
  const mcq = (list: Fact[]): McqItem[] => list.map((f) => factMcq(mcqRng, f, `${f.item.id}-mcq`));

  const ev = emptyEval();
  const put = <T>(group: Record<string, T[]>, name: string, list: T[]): void => {
    if (list.length > 0) group[name] = list;
  };
  put(ev.qa, 'retainPerturbed', items(factsOf(retainEval)));
  put(ev.qa, 'neighbours', items(factsOf(neighbours)));
  put(ev.qa, 'worldFacts', items(worldFacts));
  put(ev.qa, 'knowmemForget', knowmemOf(storyForget));
  put(ev.qa, 'knowmemRetain', knowmemOf(storyRetain));
  put(ev.text, 'utility', w.utility);
  put(ev.verbatim, 'forget', storyForget.map(splitPassage));
  put(ev.verbatim, 'retain', storyRetain.map(splitPassage));
  put(ev.verbatim, 'holdout', storyHoldout.map(splitPassage));
  put(ev.mcq, 'forget', mcq(factsOf(forget)));
  put(ev.mcq, 'retain', mcq(factsOf(retainEval)));
  put(ev.mcq, 'worldFacts', mcq(worldFacts));
  put(ev.pii, 'forget', forget.flatMap(piiRecords));
  put(ev.pii, 'retain', retain.flatMap(piiRecords));
  put(ev.pii, 'holdout', holdout.flatMap(piiRecords));

  const task: Task = {
    name: `synthetic-${size}-s${seed}`,
    format: 'qa',
    description:
      `lethe synthetic benchmark (${size}, seed ${seed}): ${nForget} forget / ${retain.length} retain ` +
      `(${neighbours.length} neighbours) / ${holdout.length} holdout people; ` +
      `${storyForget.length}/${storyRetain.length}/${storyHoldout.length} passages; ${world.length} places`,
    splits,
    eval: ev,
    idk: [...IDK],
    meta: {
      generator: 'lethe-synthetic',
      version: SYNTHETIC_VERSION,
      size,
      seed,
      ...params,
      forgetPeople: nForget,
      retainPeople: retain.length,
      neighbours: neighbours.length,
    },
  };
  validateTask(task);
  return task;
}

/**
 * Generate the synthetic benchmark and write it to `dir` (task.json + JSONL files, see writeTask)
 * so it can be inspected and edited; `loadTask(path)` reads it back to an equal Task.
 */
export async function writeSyntheticTask(
  dir: string,
  options: SyntheticOptions = {},
): Promise<{ path: string; task: Task }> {
  const task = generateSynthetic(options);
  const path = await writeTask(dir, task);
  return { path, task };
}
