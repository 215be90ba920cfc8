/**
 * Small fixtures in the benchmarks' released formats, written by the tests themselves (never
 * copied from ../shared): TOFU (JSON Lines under `.json` names, snake_case fields), MUSE (raw/,
 * verbmem/, knowmem/, privleak/ JSON arrays, with an empty and a whitespace-only raw text as the
 * real files have), WMDP (question arrays and JSON Lines corpora) and DecodingTrust's Enron files.
 * Tests only.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const jsonl = (rows: unknown[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

/** TOFU forget01 with 4 forget, 6 retain and 4 holdout rows; `partial` leaves out the optional files. */
export async function writeTofuRelease(dir: string, partial = false): Promise<void> {
  await mkdir(dir, { recursive: true });
  const qa = (p: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({ question: `${p} question ${i}?`, answer: `${p} answer ${i}.` }));
  const perturbed = (rows: { question: string; answer: string }[]) =>
    rows.map((r, i) => ({
      ...r,
      paraphrased_answer: `Paraphrased ${i}.`,
      perturbed_answer: [`Wrong ${i}a.`, `Wrong ${i}b.`],
      paraphrased_question: `Reworded ${i}?`,
    }));
  const forget = qa('Forget', 4);
  const retain = qa('Retain', 6);
  await writeFile(join(dir, 'forget01.json'), jsonl(forget));
  await writeFile(join(dir, 'retain99.json'), jsonl(retain));
  if (partial) return;
  await writeFile(join(dir, 'forget01_perturbed.json'), jsonl(perturbed(forget)));
  await writeFile(join(dir, 'retain_perturbed.json'), jsonl(perturbed(retain.slice(0, 2))));
  await writeFile(join(dir, 'holdout01.json'), jsonl(qa('Holdout', 4)));
  const options = {
    question: 'Who wrote Hamlet?',
    option1: 'Dickens',
    option2: 'Shakespeare',
    option3: 'Woolf',
    option4: 'Twain',
    answer: 'Shakespeare',
  };
  await writeFile(join(dir, 'real_authors.json'), jsonl([options]));
  await writeFile(
    join(dir, 'real_authors_perturbed.json'),
    jsonl([
      { question: options.question, answer: 'Shakespeare', perturbed_answer: ['Dickens', 'Woolf', 'Twain'] },
    ]),
  );
  await writeFile(
    join(dir, 'world_facts.json'),
    jsonl([
      {
        ...options,
        question: 'Capital of France?',
        option1: 'Paris',
        option2: 'Rome',
        option3: 'Oslo',
        option4: 'Bern',
        answer: 'Paris',
      },
    ]),
  );
  await writeFile(
    join(dir, 'world_facts_perturbed.json'),
    jsonl([{ question: 'Capital of France?', answer: 'Paris', perturbed_answer: ['Rome', 'Oslo', 'Bern'] }]),
  );
  await writeFile(join(dir, 'idontknow.jsonl'), "I don't know.\nNo idea.\n");
}

/** MUSE-News-like: raw forget 3 texts + 1 empty + 1 blank, retain1/retain2, holdout, eval files. */
export async function writeMuseRelease(dir: string): Promise<void> {
  for (const sub of ['raw', 'verbmem', 'knowmem', 'privleak'])
    await mkdir(join(dir, sub), { recursive: true });
  const put = (path: string, v: unknown) => writeFile(join(dir, path), JSON.stringify(v, null, 1));
  await put('raw/forget.json', [
    'The mayor said the bridge opens in May.',
    '',
    'Storms closed the port.',
    '   \n',
    'Prices rose in June.',
  ]);
  await put('raw/retain1.json', ['The museum reopened.', 'A new school was built.']);
  await put('raw/retain2.json', ['Rain is expected.']);
  await put('raw/holdout.json', ['The river flooded.', 'A festival began.']);
  await put('verbmem/forget.json', [{ prompt: 'The mayor said', gt: ' the bridge opens in May.' }]);
  await put('knowmem/forget_qa.json', [{ question: 'When does the bridge open?', answer: 'May' }]);
  await put('knowmem/retain_qa.json', [{ question: 'What reopened?', answer: 'The museum' }]);
  await put('knowmem/forget_qa_icl.json', [{ question: 'What closed the port?', answer: 'Storms' }]);
  await put('knowmem/retain_qa_icl.json', [{ question: 'What was built?', answer: 'A school' }]);
  await put('privleak/forget.json', ['The mayor said the bridge opens in May.']);
  await put('privleak/retain.json', ['The museum reopened.']);
  await put('privleak/holdout.json', ['A ferry sank.', 'The zoo got a panda.']);
}

/** WMDP: bio (array, index answers) and cyber (JSON Lines) questions, chem questions, bio corpora. */
export async function writeWmdpRelease(dir: string, corpora = true): Promise<void> {
  await mkdir(dir, { recursive: true });
  const q = (d: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      question: `${d} question ${i}?`,
      choices: ['w', 'x', 'y', 'z'],
      answer: i % 4,
    }));
  await writeFile(join(dir, 'bio_questions.json'), JSON.stringify(q('bio', 3)));
  await writeFile(join(dir, 'chem_questions.json'), JSON.stringify(q('chem', 2)));
  await writeFile(join(dir, 'cyber_questions.jsonl'), jsonl(q('cyber', 2)));
  if (!corpora) return;
  await writeFile(
    join(dir, 'bio-forget-corpus.jsonl'),
    jsonl([
      { title: 'T', abstract: 'A', text: 'Pathogen notes one.', doi: '10.1/x' },
      { text: 'Pathogen notes two.' },
    ]),
  );
  await writeFile(
    join(dir, 'bio-retain-corpus.jsonl'),
    jsonl(['General prose one.', 'General prose two.', '']),
  );
  await writeFile(join(dir, 'cyber-forget-corpus.jsonl'), jsonl(['Exploit notes.']));
}

/** DecodingTrust Enron files for 8 people (e0..e7), with k-shot files covering e0..e5. */
export async function writeEnronRelease(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const people = Array.from({ length: 8 }, (_, i) => ({
    email: `person${i}@enron.com`,
    name: `Person Number${i}`,
  }));
  await writeFile(join(dir, 'email2name.jsonl'), jsonl([...people, { email: 'blank@enron.com', name: ' ' }]));
  // Frequencies put person7 first, then the others in file order.
  await writeFile(
    join(dir, 'email_freq.json'),
    JSON.stringify({ 'person7@enron.com': 50, 'person0@enron.com': 3 }),
  );
  const demos = (i: number, domain: string) => [
    [`demo${i}a@${domain}`, `Demo A${i}`],
    [`person${i}@enron.com`, `Person Number${i}`],
  ];
  await writeFile(
    join(dir, 'one_shot.jsonl'),
    jsonl(people.slice(0, 6).map((p, i) => ({ email: p.email, prompt: [demos(i, 'enron.com')[0]] }))),
  );
  await writeFile(
    join(dir, 'five_shot.jsonl'),
    jsonl(people.slice(0, 6).map((p, i) => ({ email: p.email, prompt: demos(i, 'enron.com') }))),
  );
  await writeFile(
    join(dir, 'five_shot_non_domain.jsonl'),
    jsonl(people.slice(0, 6).map((p, i) => ({ email: p.email, prompt: demos(i, 'other.org').slice(0, 1) }))),
  );
}
