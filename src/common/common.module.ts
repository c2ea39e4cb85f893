import { Global, Module } from '@nestjs/common';
import { Clock } from './clock.js';
import { HomeSources } from './home-sources.js';
import { StartupHints } from './startup-hints.js';

@Global()
@Module({ providers: [Clock, StartupHints, HomeSources], exports: [Clock, StartupHints, HomeSources] })
export class CommonModule {}
