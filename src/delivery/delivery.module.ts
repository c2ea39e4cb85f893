import { Module } from '@nestjs/common';
import { DeliveryConsoleController } from './delivery-console.controller.js';
import { DeliveryController } from './delivery.controller.js';
import { DeliveryHome } from './delivery.home.js';
import { DeliveryPagesController } from './delivery-pages.controller.js';
import { DeliveryQueueRepository } from './delivery-queue.repository.js';
import { DeliveryRevealService } from './delivery-reveal.service.js';
import { DeliveryRepository } from './delivery.repository.js';
import { DeliveryService } from './delivery.service.js';
import { PartnersModule } from '../partners/partners.module.js';
import { SimSwapRepository } from './sim-swap.repository.js';
import { SmsChecks } from './sms-checks.service.js';

/** Generic two-channel delivery; credentials registers its reveal handler on DeliveryService. */
@Module({
  imports: [PartnersModule],
  controllers: [DeliveryController, DeliveryPagesController, DeliveryConsoleController],
  providers: [DeliveryRepository, DeliveryService, DeliveryRevealService, DeliveryQueueRepository, DeliveryHome, SimSwapRepository, SmsChecks],
  exports: [DeliveryService, SmsChecks, DeliveryHome],
})
export class DeliveryModule {}
