// `npx tsx test/support/record-answers.ts <file>`: writes the answers of test/support/answers.ts as the code
// of this checkout gives them, for a later change to be compared against (test/graphql/answers-unchanged.test.ts).
import { writeFile } from 'node:fs/promises';
import { recordAnswers } from './answers.js';

const file = process.argv[2];
if (!file) throw new Error('usage: npx tsx test/support/record-answers.ts <file>');
// One answer per line: small, and a diff names the answer that changed.
await writeFile(file, `[\n${(await recordAnswers()).map((answer) => JSON.stringify(answer)).join(',\n')}\n]\n`);
console.log(`wrote ${file}`);
