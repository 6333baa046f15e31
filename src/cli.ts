#!/usr/bin/env node
import { relaunch, relaunchWanted, watchLauncher } from './launcher';

// Decided before the service's modules load, so that a launcher that only waits stays small.
if (relaunchWanted(process.argv[2])) {
  relaunch();
} else {
  watchLauncher();
  void import('./commands').then(({ runCli }) => runCli(process.argv.slice(2)));
}
