import { Module } from '@nestjs/common';
import { DeliveryController } from './delivery.controller.js';
import { DeliveryPagesController } from './delivery-pages.controller.js';
import { DeliveryRevealService } from './delivery-reveal.service.js';
import { DeliveryRepository } from './delivery.repository.js';
import { DeliveryService } from './delivery.service.js';

/** Generic two-channel delivery; credentials registers its reveal handler on DeliveryService. */
@Module({
  controllers: [DeliveryController, DeliveryPagesController],
  providers: [DeliveryRepository, DeliveryService, DeliveryRevealService],
  exports: [DeliveryService],
})
export class DeliveryModule {}
