/**
 * Invented fiction for the copyright case: short stories assembled from a story state (hero,
 * companion, home, object, adversary, destination, ...) and sentence templates, to be memorised
 * verbatim and then unlearned. Promises: titles are unique within one call; every story states
 * each fact its KnowMem questions ask about (object, companion, home, adversary, destination);
 * `splitPassage` cuts at a word boundary so that prompt + continuation is the text exactly.
 */
import type { Rng } from '../../tensor/rng.ts';
import type { TextItem, VerbatimItem } from '../items.ts';
import { type Fact, renderFact } from './facts.ts';
import { KINDS } from './kinds.ts';
import { capitalise, pick, withArticle } from './random.ts';
import { ADVERSARIES, COMPANION_KINDS, DESTINATIONS, FOODS, SEASONS, SHELTERS, TERRAINS } from './words.ts';

export interface Story {
  index: number;
  title: string;
  hero: string;
  companion: string;
  companionKind: string;
  home: string;
  object: string;
  adversary: string;
  destination: string;
  text: string;
}

const TRAITS = [
  'talked only in the mornings',
  'knew every ford on the river',
  'was afraid of bells',
  'could smell rain a day before it fell',
  'owed an old debt and meant to repay it',
  'had walked the road once before and would not say when',
];

function drawState(rng: Rng, index: number, titles: Set<string>): Omit<Story, 'text'> {
  const hero = KINDS.heroName.draw(rng);
  let companion = KINDS.heroName.draw(rng);
  while (companion === hero) companion = KINDS.heroName.draw(rng);
  const home = KINDS.storyPlace.draw(rng);
  const object = KINDS.storyObject.draw(rng);
  const bases = [`${hero} of ${home}`, `The ${object.split(' ').map(capitalise).join(' ')} of ${hero}`];
  if (rng.uniform() < 0.5) bases.reverse();
  let title = bases.find((b) => !titles.has(b)) ?? '';
  for (let k = 2; title === '' || titles.has(title); k++) title = `${bases[0]}, Book ${k}`;
  titles.add(title);
  return {
    index,
    title,
    hero,
    companion,
    companionKind: pick(rng, COMPANION_KINDS),
    home,
    object,
    adversary: pick(rng, ADVERSARIES),
    destination: pick(rng, DESTINATIONS),
  };
}

function tell(rng: Rng, s: Omit<Story, 'text'>): string {
  const choose = (options: string[]): string => pick(rng, options);
  const season = pick(rng, SEASONS);
  const food = pick(rng, FOODS);
  const shelter = pick(rng, SHELTERS);
  const terrain = pick(rng, TERRAINS);
  const days = rng.int(2, 13);
  const obj = s.object;
  const sentences = [
    choose([
      `${s.hero} lived at the edge of ${s.home}, and ${season} nothing much ever happened there.`,
      `${capitalise(season)}, ${s.hero} left ${s.home} for the first time.`,
      `In ${s.home} people said that ${s.hero} had been born lucky, though no one could say why.`,
    ]),
    choose([
      `An old letter asked ${s.hero} to carry ${withArticle(obj)} to ${s.destination}.`,
      `The ${obj} was warm to the touch, and it hummed whenever ${s.hero} turned towards ${s.destination}.`,
      `A traveller paid ${s.hero} three coins to take ${withArticle(obj)} to ${s.destination} and to ask no questions.`,
    ]),
    choose([
      `${s.hero} set out with ${s.companionKind} called ${s.companion}, who ${pick(rng, TRAITS)}.`,
      `On the first evening ${s.hero} was joined by ${s.companion}, ${s.companionKind} who ${pick(rng, TRAITS)}.`,
    ]),
    choose([
      `They crossed ${terrain} for ${days} days, eating ${food} and sleeping under ${shelter}.`,
      `For ${days} days the road led through ${terrain}, and each night they rested beneath ${shelter}.`,
    ]),
    choose([
      `${s.companion} kept count of the days and complained about the ${food}.`,
      `The rain followed them everywhere, and ${s.companion} sang to keep the wolves away.`,
      `Once they lost the road entirely and found it again only by following a line of crows.`,
    ]),
    choose([
      `At the last crossing they met ${s.adversary}, who demanded the ${obj} as payment.`,
      `Before the final hill, ${s.adversary} blocked the road and would not move.`,
      `Halfway there, ${s.adversary} came in the night and tried to take the ${obj}.`,
    ]),
    choose([
      `${s.hero} offered a riddle in exchange, and the riddle was not solved.`,
      `${s.hero} rang the ${obj} three times, and the way cleared.`,
      `It was ${s.companion} who found the answer, and they went on without a word.`,
      `${s.hero} told the plain truth, which nobody had tried before, and was let through.`,
    ]),
    choose([
      `When they reached ${s.destination}, the ${obj} was placed on a shelf and forgotten, which seemed to be what it wanted.`,
      `At ${s.destination} an old keeper took the ${obj}, thanked them both, and asked for nothing.`,
      `They came at last to ${s.destination}, and ${s.hero} never spoke of the ${obj} again.`,
      `${s.hero} returned to ${s.home} a year later, and ${s.companion} was seen only once more.`,
    ]),
  ];
  return sentences.join(' ');
}

/** Draw `count` stories with unique titles. */
export function drawStories(rng: Rng, count: number, firstIndex = 0): Story[] {
  const titles = new Set<string>();
  const out: Story[] = [];
  for (let i = 0; i < count; i++) {
    const state = drawState(rng, firstIndex + i, titles);
    out.push({ ...state, text: tell(rng, state) });
  }
  return out;
}

export function storyText(s: Story): TextItem {
  return { id: `passage-${s.index}`, text: s.text };
}

/**
 * The VerbMem item of a story: the first 30% of its words (at least 12) as the prompt, the rest
 * (starting with its separating space) as the continuation.
 */
export function splitPassage(s: Story): VerbatimItem {
  const words = s.text.split(' ');
  const k = Math.min(words.length - 1, Math.max(12, Math.round(words.length * 0.3)));
  const prompt = words.slice(0, k).join(' ');
  return { id: `passage-${s.index}-verbatim`, prompt, continuation: s.text.slice(prompt.length) };
}

/** KnowMem QA about a story: facts a reader of the text knows, never trained on as QA. */
export function storyFacts(rng: Rng, s: Story, perturbed: number): Fact[] {
  const t = `"${s.title}"`;
  const id = (attr: string): string => `passage-${s.index}-${attr}`;
  const h = s.hero;
  return [
    renderFact(
      rng,
      id('object'),
      {
        subject: s.title,
        attribute: 'object',
        kind: 'storyObject',
        value: s.object,
        questions: [
          `In the story ${t}, what does ${h} carry?`,
          `What object does ${h} take on the journey in ${t}?`,
        ],
        answers: [(v) => `${h} carries ${withArticle(v)}.`, (v) => `The object is ${withArticle(v)}.`],
      },
      perturbed,
    ),
    renderFact(
      rng,
      id('companion'),
      {
        subject: s.title,
        attribute: 'companion',
        kind: 'heroName',
        value: s.companion,
        questions: [`Who travels with ${h} in ${t}?`, `What is the name of ${h}'s companion in ${t}?`],
        answers: [(v) => `${h} travels with ${v}.`, (v) => `The companion is called ${v}.`],
        drawWrong: (r) => {
          let v = KINDS.heroName.draw(r);
          while (v === h) v = KINDS.heroName.draw(r);
          return v;
        },
      },
      perturbed,
    ),
    renderFact(
      rng,
      id('home'),
      {
        subject: s.title,
        attribute: 'home',
        kind: 'storyPlace',
        value: s.home,
        questions: [`Where does ${h} live at the start of ${t}?`, `In ${t}, where is ${h}'s home?`],
        answers: [(v) => `${h} lives in ${v}.`, (v) => `${h}'s home is ${v}.`],
      },
      perturbed,
    ),
    renderFact(
      rng,
      id('adversary'),
      {
        subject: s.title,
        attribute: 'adversary',
        kind: 'adversary',
        value: s.adversary,
        questions: [`Who stands in ${h}'s way in ${t}?`, `What obstacle does ${h} meet in ${t}?`],
        answers: [(v) => `${capitalise(v)} stands in the way.`, (v) => `${h} meets ${v}.`],
      },
      perturbed,
    ),
    renderFact(
      rng,
      id('destination'),
      {
        subject: s.title,
        attribute: 'destination',
        kind: 'destination',
        value: s.destination,
        questions: [
          `Where is ${h} travelling to in ${t}?`,
          `What is the destination of ${h}'s journey in ${t}?`,
        ],
        answers: [(v) => `${h} is travelling to ${v}.`, (v) => `The journey leads to ${v}.`],
      },
      perturbed,
    ),
  ];
}
