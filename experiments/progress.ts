// Progress of a batch of runs: a bar on a terminal, plain lines elsewhere (CI logs, pipes).
import cliProgress from "cli-progress";

export class Progress {
  private readonly bar: cliProgress.SingleBar | undefined;
  private done = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {
    if (process.stdout.isTTY && !process.env.CI) {
      this.bar = new cliProgress.SingleBar(
        { format: `${label} [{bar}] {value}/{total} {last}`, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, { last: "" });
    }
  }

  tick(message: string): void {
    this.done++;
    if (this.bar) this.bar.update(this.done, { last: message.slice(0, 60) });
    else console.log(`[${this.label} ${this.done}/${this.total}] ${message}`);
  }

  stop(): void {
    this.bar?.stop();
  }
}
