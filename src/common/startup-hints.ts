import { Injectable } from '@nestjs/common';

/** Lines `npm start` prints once the service listens; features add theirs at module init. */
@Injectable()
export class StartupHints {
  private readonly producers: Array<(baseUrl: string) => string[] | Promise<string[]>> = [];

  add(producer: (baseUrl: string) => string[] | Promise<string[]>): void {
    this.producers.push(producer);
  }

  async lines(baseUrl: string): Promise<string[]> {
    const out: string[] = [];
    for (const p of this.producers) out.push(...(await p(baseUrl)));
    return out;
  }
}
