/** A progress bar on a terminal (cli-progress), silent otherwise (pipes, --json, CI). */
import cliProgress from 'cli-progress';

export interface Progress {
  update: (done: number, total?: number) => void;
  stop: () => void;
}

export function progressReporter(enabled: boolean, unit: 'bytes' | 'events', total = 0): Progress {
  if (!enabled) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      format:
        unit === 'bytes'
          ? ' {bar} {percentage}% | {valueMb}/{totalMb} MB | {eta}s'
          : ' {bar} {percentage}% | {value}/{total} events | {eta}s',
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const mb = (n: number) => (n / 1048576).toFixed(1);
  return {
    update(done, t) {
      const tot = t ?? total;
      if (!started) {
        bar.start(tot, 0, { valueMb: '0', totalMb: mb(tot) });
        started = true;
      }
      if (t !== undefined) bar.setTotal(t);
      bar.update(done, { valueMb: mb(done), totalMb: mb(tot) });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
