import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The official Python SDK the tests drive (pinned: its streaming helpers are what we must satisfy). */
export const PYTHON_OPENAI_VERSION = '1.109.1';

/**
 * A project-local virtualenv with the pinned `openai` package from PyPI, created on first use and reused
 * after (`.threadline/tools/python-openai-<version>`). Returns its interpreter.
 */
export function ensurePythonOpenAI(root: string): string {
  const venv = path.join(root, '.threadline', 'tools', `python-openai-${PYTHON_OPENAI_VERSION}`);
  const python = path.join(venv, 'bin', 'python');
  const marker = path.join(venv, '.installed');
  if (fs.existsSync(marker)) return python;
  fs.rmSync(venv, { recursive: true, force: true });
  // Quiet unless it fails: pip's warnings about this machine's extra package indexes are noise here.
  const quietly = (file: string, args: string[]) => {
    try {
      execFileSync(file, args, { stdio: 'pipe' });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
      throw new Error(`${file} ${args.join(' ')} failed:\n${String(stdout ?? '')}${String(stderr ?? '')}`);
    }
  };
  quietly('python3', ['-m', 'venv', venv]);
  quietly(python, ['-m', 'pip', 'install', '--disable-pip-version-check', `openai==${PYTHON_OPENAI_VERSION}`]);
  fs.writeFileSync(marker, `openai==${PYTHON_OPENAI_VERSION}\n`);
  return python;
}
