/** An exponentially weighted moving average; undefined until the first sample. */
export class Ewma {
  #value: number | undefined;
  #samples = 0;

  constructor(private readonly alpha: number) {}

  add(sample: number): void {
    this.#value = this.#value === undefined ? sample : this.alpha * sample + (1 - this.alpha) * this.#value;
    this.#samples += 1;
  }

  get value(): number | undefined {
    return this.#value;
  }

  get samples(): number {
    return this.#samples;
  }
}
