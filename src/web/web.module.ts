import { Module } from '@nestjs/common';
import { HomeController } from './home.controller.js';
import { OutboxController } from './outbox.controller.js';

@Module({ controllers: [HomeController, OutboxController] })
export class WebModule {}
