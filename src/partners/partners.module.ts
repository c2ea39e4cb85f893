import { Module } from '@nestjs/common';
import { PartnersRepository } from './partners.repository.js';
import { PartnersService } from './partners.service.js';

@Module({ providers: [PartnersRepository, PartnersService], exports: [PartnersService] })
export class PartnersModule {}
