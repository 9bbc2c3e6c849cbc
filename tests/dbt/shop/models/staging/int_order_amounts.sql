{{ config(materialized='ephemeral') }}
select order_id, customer_id, case when status = 'returned' then 0 else amount end as net_amount
from {{ ref('stg_orders') }}
