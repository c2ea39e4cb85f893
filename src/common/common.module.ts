import { Global, Module } from '@nestjs/common';
import { Clock } from './clock.js';
import { StartupHints } from './startup-hints.js';

@Global()
@Module({ providers: [Clock, StartupHints], exports: [Clock, StartupHints] })
export class CommonModule {}
