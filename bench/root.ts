import fs from 'node:fs';
import path from 'node:path';

/** The repository root, whether this runs compiled (dist/bench) or from source (bench, under Jest). */
export const ROOT = (() => {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'bench'))) return dir;
  }
  throw new Error(`no repository root above ${__dirname}`);
})();
