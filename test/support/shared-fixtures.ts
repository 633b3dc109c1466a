import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Records the served systems wrote themselves (MIT), kept beside the checkout in `../shared/fixtures`
 * and never copied into the repository. Tests that read them skip where that folder is absent; the
 * project's own `fixtures/` carry the same traits for a clone on its own.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_OPEN_INTERVIEW = join(ROOT, '..', 'shared', 'fixtures', 'open-interview');
export const hasSharedOpenInterview = existsSync(join(SHARED_OPEN_INTERVIEW, 'data-questions.json'));
