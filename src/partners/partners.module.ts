import { Module } from '@nestjs/common';
import { LineOverrideRepository } from './line-override.repository.js';
import { PartnersRepository } from './partners.repository.js';
import { PartnersService } from './partners.service.js';

@Module({ providers: [PartnersRepository, LineOverrideRepository, PartnersService], exports: [PartnersService] })
export class PartnersModule {}
