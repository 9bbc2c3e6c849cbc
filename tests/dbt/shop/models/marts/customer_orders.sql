{{ config(materialized='table') }}

with orders as (
    select * from {{ ref('stg_orders') }}
),
net as (
    select * from {{ ref('int_order_amounts') }}
),
customers as (
    select * from {{ ref('stg_customers') }}
),
agg as (
    select
        o.customer_id,
        count(*) as order_count,
        count(*) filter (where o.status = 'completed') as completed_orders,
        sum(o.amount) as gross_amount,
        sum(n.net_amount) as lifetime_value,
        min(o.order_date) as first_order_date,
        max(o.order_date) as last_order_date,
        bool_or(o.is_gift) as ever_gifted
    from orders o
    join net n on n.order_id = o.order_id
    group by o.customer_id
)
select
    c.customer_id,
    c.full_name,
    c.tier,
    coalesce(a.order_count, 0) as order_count,
    coalesce(a.completed_orders, 0) as completed_orders,
    coalesce(a.gross_amount, 0) as gross_amount,
    coalesce(a.lifetime_value, 0) as lifetime_value,
    a.first_order_date,
    a.last_order_date,
    coalesce(a.ever_gifted, false) as ever_gifted,
    case when coalesce(a.lifetime_value, 0) >= 100 then 'high' else 'low' end as value_band
from customers c
left join agg a on a.customer_id = c.customer_id
