/**
 * The Porter stemmer (Porter 1980, "An algorithm for suffix stripping"), written from the published
 * rules, with the two documented sets of departures that NLTK's PorterStemmer offers as modes.
 *
 * Promises
 * - stem(word, 'nltk') equals nltk.stem.porter.PorterStemmer().stem(word) (mode NLTK_EXTENSIONS, the
 *   default), which is what Google's rouge_score calls when use_stemmer=True — so this is the mode
 *   TOFU's stemmed ROUGE-L needs. 'martin' is NLTK's MARTIN_EXTENSIONS (Porter's own later
 *   implementations) and 'original' its ORIGINAL_ALGORITHM (the 1980 paper).
 * - Departures in 'nltk' mode, each from NLTK's documentation: a table of irregular forms (skies→sky,
 *   dying→die, news, …); words of ≤ 2 letters are returned unchanged; 4-letter "-ies"/"-ied" keep
 *   their e (dies→die, died→die) and longer "-ied" → "-i"; Step 1c turns y into i only after a
 *   consonant that is not the first letter (happy→happi, enjoy→enjoy); *o also matches a 2-letter
 *   vowel–consonant stem; Step 2 uses bli→ble (not abli→able), tries alli→al first and re-runs Step 2,
 *   and adds fulli→ful and logi→log (its l counted with the stem). 'martin' has ≤ 2-letter words,
 *   bli→ble and logi→log (l with the suffix); 'original' has none.
 * - Input is lowercased first. Letters other than a–z (digits included) count as consonants, as in
 *   NLTK. Rule lists are applied the published way: the first rule whose suffix matches decides, and if
 *   its condition fails no later rule in the same list is tried.
 */

export type PorterMode = 'nltk' | 'martin' | 'original';

/** NLTK_EXTENSIONS' table of irregular forms (the word, as given, → its stem). */
const IRREGULAR = new Map<string, string>([
  ['sky', 'sky'],
  ['skies', 'sky'],
  ['dying', 'die'],
  ['lying', 'lie'],
  ['tying', 'tie'],
  ['news', 'news'],
  ['innings', 'inning'],
  ['inning', 'inning'],
  ['outings', 'outing'],
  ['outing', 'outing'],
  ['cannings', 'canning'],
  ['canning', 'canning'],
  ['howe', 'howe'],
  ['proceed', 'proceed'],
  ['exceed', 'exceed'],
  ['succeed', 'succeed'],
]);

/** A consonant is not a, e, i, o, u, and not a y that follows a consonant. */
function isConsonant(w: string, i: number): boolean {
  const c = w[i];
  if (c === 'a' || c === 'e' || c === 'i' || c === 'o' || c === 'u') return false;
  if (c === 'y') return i === 0 ? true : !isConsonant(w, i - 1);
  return true;
}

/** m in [C](VC)^m[V]: the number of vowel→consonant transitions. */
function measure(stem: string): number {
  let m = 0;
  for (let i = 1; i < stem.length; i++) if (!isConsonant(stem, i - 1) && isConsonant(stem, i)) m++;
  return m;
}

function containsVowel(stem: string): boolean {
  for (let i = 0; i < stem.length; i++) if (!isConsonant(stem, i)) return true;
  return false;
}

/** *d: ends with a double consonant. */
function endsDoubleConsonant(w: string): boolean {
  const n = w.length;
  return n >= 2 && w[n - 1] === w[n - 2] && isConsonant(w, n - 1);
}

/** *o: ends consonant–vowel–consonant, the last not w, x or y (nltk: also a 2-letter vowel–consonant). */
function endsCvc(w: string, mode: PorterMode): boolean {
  const n = w.length;
  if (n >= 3) {
    const last = w[n - 1];
    if (
      isConsonant(w, n - 3) &&
      !isConsonant(w, n - 2) &&
      isConsonant(w, n - 1) &&
      last !== 'w' &&
      last !== 'x' &&
      last !== 'y'
    ) {
      return true;
    }
  }
  return mode === 'nltk' && n === 2 && !isConsonant(w, 0) && isConsonant(w, 1);
}

/** [suffix, replacement, condition on the stem left after removing the suffix]. '*d' = any double consonant. */
type Rule = readonly [string, string, ((stem: string) => boolean) | null];

function applyRules(word: string, rules: readonly Rule[]): string {
  for (const [suffix, replacement, condition] of rules) {
    if (suffix === '*d') {
      if (endsDoubleConsonant(word)) {
        const stem = word.slice(0, -2);
        return condition === null || condition(stem) ? stem + replacement : word;
      }
      continue;
    }
    if (word.endsWith(suffix)) {
      const stem = word.slice(0, word.length - suffix.length);
      return condition === null || condition(stem) ? stem + replacement : word;
    }
  }
  return word;
}

const positive = (stem: string) => measure(stem) > 0;
const aboveOne = (stem: string) => measure(stem) > 1;

function step1a(word: string, mode: PorterMode): string {
  if (mode === 'nltk' && word.length === 4 && word.endsWith('ies')) return `${word.slice(0, -3)}ie`;
  return applyRules(word, [
    ['sses', 'ss', null],
    ['ies', 'i', null],
    ['ss', 'ss', null],
    ['s', '', null],
  ]);
}

function step1b(word: string, mode: PorterMode): string {
  if (mode === 'nltk' && word.endsWith('ied')) {
    return word.length === 4 ? `${word.slice(0, -3)}ie` : `${word.slice(0, -3)}i`;
  }
  if (word.endsWith('eed')) {
    const stem = word.slice(0, -3);
    return measure(stem) > 0 ? `${stem}ee` : word;
  }
  let stem: string | null = null;
  for (const suffix of ['ed', 'ing']) {
    if (word.endsWith(suffix)) {
      const s = word.slice(0, word.length - suffix.length);
      if (containsVowel(s)) {
        stem = s;
        break;
      }
    }
  }
  if (stem === null) return word;
  const last = stem[stem.length - 1];
  return applyRules(stem, [
    ['at', 'ate', null],
    ['bl', 'ble', null],
    ['iz', 'ize', null],
    ['*d', last, () => last !== 'l' && last !== 's' && last !== 'z'],
    ['', 'e', (s) => measure(s) === 1 && endsCvc(s, mode)],
  ]);
}

function step1c(word: string, mode: PorterMode): string {
  const condition =
    mode === 'nltk'
      ? (s: string) => s.length > 1 && isConsonant(s, s.length - 1)
      : (s: string) => containsVowel(s);
  return applyRules(word, [['y', 'i', condition]]);
}

function step2(word: string, mode: PorterMode): string {
  if (mode === 'nltk' && word.endsWith('alli') && positive(word.slice(0, -4))) {
    return step2(`${word.slice(0, -4)}al`, mode);
  }
  const rules: Rule[] = [
    ['ational', 'ate', positive],
    ['tional', 'tion', positive],
    ['enci', 'ence', positive],
    ['anci', 'ance', positive],
    ['izer', 'ize', positive],
    mode === 'original' ? ['abli', 'able', positive] : ['bli', 'ble', positive],
    ['alli', 'al', positive],
    ['entli', 'ent', positive],
    ['eli', 'e', positive],
    ['ousli', 'ous', positive],
    ['ization', 'ize', positive],
    ['ation', 'ate', positive],
    ['ator', 'ate', positive],
    ['alism', 'al', positive],
    ['iveness', 'ive', positive],
    ['fulness', 'ful', positive],
    ['ousness', 'ous', positive],
    ['aliti', 'al', positive],
    ['iviti', 'ive', positive],
    ['biliti', 'ble', positive],
  ];
  if (mode === 'nltk') {
    rules.push(['fulli', 'ful', positive]);
    // The l of -logi stays with the stem, so short stems like geo-, theo- qualify.
    rules.push(['logi', 'log', () => positive(word.slice(0, -3))]);
  } else if (mode === 'martin') {
    rules.push(['logi', 'log', positive]);
  }
  return applyRules(word, rules);
}

function step3(word: string): string {
  return applyRules(word, [
    ['icate', 'ic', positive],
    ['ative', '', positive],
    ['alize', 'al', positive],
    ['iciti', 'ic', positive],
    ['ical', 'ic', positive],
    ['ful', '', positive],
    ['ness', '', positive],
  ]);
}

function step4(word: string): string {
  return applyRules(word, [
    ['al', '', aboveOne],
    ['ance', '', aboveOne],
    ['ence', '', aboveOne],
    ['er', '', aboveOne],
    ['ic', '', aboveOne],
    ['able', '', aboveOne],
    ['ible', '', aboveOne],
    ['ant', '', aboveOne],
    ['ement', '', aboveOne],
    ['ment', '', aboveOne],
    ['ent', '', aboveOne],
    ['ion', '', (s) => measure(s) > 1 && (s.endsWith('s') || s.endsWith('t'))],
    ['ou', '', aboveOne],
    ['ism', '', aboveOne],
    ['ate', '', aboveOne],
    ['iti', '', aboveOne],
    ['ous', '', aboveOne],
    ['ive', '', aboveOne],
    ['ize', '', aboveOne],
  ]);
}

function step5a(word: string, mode: PorterMode): string {
  // Both rules share the suffix e, and (unlike elsewhere) the second is tried when the first fails.
  if (!word.endsWith('e')) return word;
  const stem = word.slice(0, -1);
  const m = measure(stem);
  if (m > 1 || (m === 1 && !endsCvc(stem, mode))) return stem;
  return word;
}

function step5b(word: string): string {
  return applyRules(word, [['ll', 'l', () => measure(word.slice(0, -1)) > 1]]);
}

/** The Porter stem of one word (see the file header for the modes; default 'nltk'). */
export function porterStem(word: string, mode: PorterMode = 'nltk'): string {
  const lower = word.toLowerCase();
  // NLTK looks the word up as given (before lowercasing) in its irregular-forms table.
  if (mode === 'nltk') {
    const irregular = IRREGULAR.get(word);
    if (irregular !== undefined) return irregular;
  }
  if (mode !== 'original' && word.length <= 2) return lower;
  let w = step1a(lower, mode);
  w = step1b(w, mode);
  w = step1c(w, mode);
  w = step2(w, mode);
  w = step3(w);
  w = step4(w);
  w = step5a(w, mode);
  return step5b(w);
}
